/**
 * How `hako compose` shows its progress, as docker compose v2 does (pkg/progress): on a terminal
 * the TTY display (tty.go) — a `[+] Running 2/3` header and one line per resource, rewritten in
 * place every 100 ms, a spinner while it works, ✔ when done, ✘ on error, the elapsed time on the
 * right; otherwise (`--progress plain`, `--ansi never`, no TTY) one line per event
 * (" Container p-web-1  Started"); `--progress quiet` prints none. Colours only on the TTY
 * display, and not with NO_COLOR.
 */
import type { Writable } from 'node:stream';
import type { Progress } from '../../compose/index.js';

export type ProgressMode = 'tty' | 'plain' | 'quiet';

/** compose's choice: --progress wins; auto is tty on a terminal unless --ansi never (plain), always forces it. */
export function progressMode(progress: string, ansi: string, isTTY: boolean): ProgressMode {
  if (progress === 'quiet') return 'quiet';
  if (progress === 'plain') return 'plain';
  if (progress === 'tty') return 'tty';
  if (ansi === 'never') return 'plain';
  if (ansi === 'always') return 'tty';
  return isTTY ? 'tty' : 'plain';
}

export interface ProgressDisplay extends Progress {
  /** Draws the last state and stops the timer (before logs are followed, or the command ends). */
  stop(): void;
}

/** The message of a warning as compose's logrus prints it. */
export function warnLine(message: string): string {
  return /^WARN\[/.test(message) ? `${message}\n` : `WARN[0000] ${message}\n`;
}

export function plainProgress(out: Writable, quiet: boolean): ProgressDisplay {
  // A layer's line is printed when its status changes, not for every "Downloading" tick.
  const layers = new Map<string, string>();
  return {
    event: (id, status) => { if (!quiet) out.write(` ${id}  ${status}\n`); },
    layer: (_parent, id, text) => {
      if (quiet || layers.get(id) === text) return;
      layers.set(id, text);
      out.write(` ${id} ${text} \n`);
    },
    warn: (message) => { out.write(warnLine(message)); },
    buildOutput: (text) => { if (!quiet) out.write(text); },
    stop: () => undefined,
  };
}

/** Statuses of a resource still being worked on; every other status is an end state. */
const WORKING = new Set([
  'Creating', 'Starting', 'Waiting', 'Stopping', 'Removing', 'Recreate', 'Pulling', 'Restarting', 'Killing',
  'Pausing', 'Unpausing', 'Building', 'Pushing',
]);
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Line { id: string; status: string; start: number; end: number | null; error: boolean; parent?: string }

/** Layer statuses that end a layer's line (the rest — Downloading, Extracting … — are work). */
const LAYER_DONE = new Set(['Pull complete', 'Already exists', 'Download complete']);

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';

/** The block as tty.go draws it: the header and one line per resource, each fitted to `width`. */
export function renderBlock(all: Line[], o: { width: number; color: boolean; now: number; frame: number; title?: string }): string[] {
  // Resources in the order they appeared, each followed by its layers (indented, not counted).
  const top = all.filter((l) => l.parent === undefined);
  const lines = top.flatMap((t) => [t, ...all.filter((l) => l.parent === t.id)]);
  const done = top.filter((l) => l.end !== null).length;
  const idWidth = Math.max(0, ...top.map((l) => l.id.length));
  const out = [`[+] ${o.title ?? 'Running'} ${done}/${top.length}`];
  for (const l of lines) {
    const icon = l.error ? '✘' : l.end !== null ? '✔' : SPINNER[o.frame % SPINNER.length]!;
    const secs = `${(((l.end ?? o.now) - l.start) / 1000).toFixed(1)}s`;
    let text = l.parent === undefined ? ` ${icon} ${l.id.padEnd(idWidth)}  ${l.status}` : `   ${icon} ${l.id} ${l.status}`;
    // Too long for the terminal: cut, so a line never wraps (a wrapped line breaks the redraw).
    if (o.width - text.length - secs.length - 1 < 1) text = text.slice(0, Math.max(0, o.width - secs.length - 2));
    const pad = ' '.repeat(Math.max(1, o.width - text.length - secs.length - 1));
    let line = `${text}${pad}${secs}`;
    if (o.color) {
      const c = l.error ? RED : l.end !== null ? GREEN : '';
      if (c) line = line.replace(` ${icon} `, ` ${c}${icon}${RESET} `).replace(l.parent === undefined ? `  ${l.status}` : ` ${l.status}`, `${l.parent === undefined ? '  ' : ' '}${c}${l.status}${RESET}`);
    }
    out.push(line);
  }
  return out;
}

/** The TTY display: redraws its block in place; warnings and build output go above it. */
export class TtyProgress implements ProgressDisplay {
  readonly #out: Writable & { columns?: number };
  readonly #color: boolean;
  readonly #lines: Line[] = [];
  #drawn = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(out: Writable & { columns?: number }, opts: { color: boolean }) {
    this.#out = out;
    this.#color = opts.color;
  }

  event(id: string, status: string): void {
    const now = Date.now();
    let line = this.#lines.find((l) => l.id === id && l.parent === undefined);
    if (!line) {
      line = { id, status, start: now, end: null, error: false };
      this.#lines.push(line);
    }
    line.status = status;
    line.error = status === 'Error';
    line.end = WORKING.has(status) ? null : now;
    this.#stopped = false;
    this.#timer ??= setInterval(() => { this.#frame++; this.#draw(); }, 100);
    this.#timer.unref();
    this.#draw();
  }

  layer(parent: string, id: string, text: string): void {
    const now = Date.now();
    let line = this.#lines.find((l) => l.id === id && l.parent === parent);
    if (!line) {
      line = { id, status: text, start: now, end: null, error: false, parent };
      this.#lines.push(line);
    }
    line.status = text;
    line.end = LAYER_DONE.has(text) ? now : null;
    this.#timer ??= setInterval(() => { this.#frame++; this.#draw(); }, 100);
    this.#timer.unref();
  }

  warn(message: string): void {
    this.#above(warnLine(message));
  }

  buildOutput(text: string): void {
    this.#above(text);
  }

  /** The last state drawn; what comes after (container output, a later event) starts below it. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (!this.#stopped && this.#lines.length > 0) this.#draw();
    this.#stopped = true;
    this.#drawn = 0;
    this.#lines.length = 0;
  }

  /** Text printed above the block: the block is cleared, the text written, the block drawn again. */
  #above(text: string): void {
    this.#clear();
    this.#out.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    this.#drawn = 0;
    if (this.#lines.length > 0 && !this.#stopped) this.#draw();
  }

  #clear(): void {
    if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}A\r\x1b[J`);
  }

  #draw(): void {
    const width = this.#out.columns && this.#out.columns > 20 ? this.#out.columns : 80;
    const block = renderBlock(this.#lines, { width, color: this.#color, now: Date.now(), frame: this.#frame });
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    this.#out.write(`${up}${block.map((l) => `\r\x1b[2K${l}\n`).join('')}`);
    this.#drawn = block.length;
  }
}
