/**
 * Container output of several containers on one terminal, as docker compose prints it: each line
 * prefixed with the container's name padded to the longest (`proj-web-1  | line`), or bare with
 * --no-log-prefix. Used by `compose logs` and by `compose up` without -d.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import type { Client, ContainerSummary } from '../../client/index.js';
import { demultiplex } from '../../client/index.js';

export interface LogFollowOptions {
  follow: boolean;
  timestamps?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  prefix: boolean;
  signal?: AbortSignal;
}

/**
 * Writes whole lines with the prefix; a last line without a newline is completed at the end.
 * Bytes are decoded across writes, so a character split between two chunks stays whole.
 */
export class LinePrefixer {
  #pending = '';
  #decoder = new StringDecoder('utf8');
  constructor(readonly out: Writable, readonly prefix: string) {}

  write(chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const lines = (this.#pending + text).split('\n');
    this.#pending = lines.pop() ?? '';
    if (lines.length > 0) this.out.write(lines.map((l) => `${this.prefix}${l.replace(/\r$/, '')}\n`).join(''));
  }

  flush(): void {
    this.#pending += this.#decoder.end();
    if (this.#pending) this.out.write(`${this.prefix}${this.#pending}\n`);
    this.#pending = '';
  }
}

export function prefixWidth(containers: Array<{ name: string }>): number {
  return Math.max(0, ...containers.map((c) => c.name.length));
}

export function nameOf(c: ContainerSummary): string {
  return (c.Names?.[0] ?? '').replace(/^\//, '');
}

/** One container's log stream onto stdout/stderr with the prefix; resolves when the stream ends. */
export async function streamContainerLogs(client: Client, c: { id: string; name: string; tty: boolean }, width: number, out: { stdout: Writable; stderr: Writable }, opts: LogFollowOptions): Promise<void> {
  const prefix = opts.prefix ? `${c.name.padEnd(width)}  | ` : '';
  const res = await client.containerLogs(c.id, {
    follow: opts.follow, timestamps: opts.timestamps ?? false,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.since ? { since: opts.since } : {}),
    ...(opts.until ? { until: opts.until } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const o = new LinePrefixer(out.stdout, prefix);
  const e = new LinePrefixer(out.stderr, prefix);
  try {
    if (c.tty) {
      for await (const chunk of res) o.write(chunk as Buffer);
    } else {
      for await (const f of demultiplex(res)) (f.stream === 'stderr' ? e : o).write(f.data);
    }
  } catch (err) {
    if (!opts.signal?.aborted) throw err;
  } finally {
    o.flush();
    e.flush();
  }
}
