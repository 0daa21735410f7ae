/**
 * Terminal handling for attached containers and execs: raw mode on stdin (always restored), the
 * terminal size sent at start and on every SIGWINCH, and the detach key sequence (ctrl-p,ctrl-q).
 */
import type { Cli } from './cli.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's term.ToBytes: "ctrl-p,ctrl-q" -> [0x10, 0x11]; "a" -> 0x61. */
export function parseDetachKeys(keys: string): Buffer {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const k = key.trim();
    if (k.length > 1 && k.toLowerCase().startsWith('ctrl-')) {
      const c = k.slice(5).toLowerCase();
      if (c.length !== 1) throw new Error(`Unknown character: '${k}'`);
      const code = c.charCodeAt(0);
      if (code >= 0x61 && code <= 0x7a) out.push(code - 0x60);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`Unknown character: '${k}'`);
    } else if (k.length === 1) {
      out.push(k.charCodeAt(0));
    } else {
      throw new Error(`Unknown character: '${k}'`);
    }
  }
  return Buffer.from(out);
}

/** Scans input for the detach sequence, holding back bytes of a partial match. */
export class DetachScanner {
  readonly #keys: Buffer;
  #matched = 0;
  constructor(keys: Buffer) {
    this.#keys = keys;
  }
  /** Returns the bytes to forward, and whether the sequence was completed. */
  push(chunk: Buffer): { forward: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { forward: Buffer.from(out), detached: true };
        continue;
      }
      if (this.#matched > 0) {
        out.push(...this.#keys.subarray(0, this.#matched));
        this.#matched = 0;
      }
      if (b === this.#keys[0]) this.#matched = 1;
      else out.push(b);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

type TtyIn = NodeJS.ReadStream;

/** Puts stdin in raw mode; the returned function restores it (idempotent, also on exit). */
export function makeRaw(cli: Cli): () => void {
  const stdin = cli.stdin as TtyIn;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') return () => {};
  stdin.setRawMode(true);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try { stdin.setRawMode(false); } catch { /* stdin closed */ }
    process.off('exit', restore);
  };
  process.on('exit', restore);
  return restore;
}

/** Sends the terminal size now and on each resize; the returned function stops watching. */
export function monitorSize(cli: Cli, resize: (h: number, w: number) => Promise<unknown>): () => void {
  const out = cli.stdout as NodeJS.WriteStream;
  if (!out.isTTY) return () => {};
  const send = (): void => {
    const h = out.rows ?? 0;
    const w = out.columns ?? 0;
    if (h > 0 && w > 0) resize(h, w).catch(() => {});
  };
  send();
  out.on('resize', send);
  return () => out.off('resize', send);
}

export function consoleSize(cli: Cli): [number, number] | undefined {
  const out = cli.stdout as NodeJS.WriteStream;
  return out.isTTY && out.rows && out.columns ? [out.rows, out.columns] : undefined;
}
