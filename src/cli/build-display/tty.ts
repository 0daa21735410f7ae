/**
 * Draws a BuildDisplay on a terminal: the frame is redrawn in place (cursor up over the previous
 * frame, each line cleared) on a timer every `interval` ms, never per event — a chatty RUN step
 * costs ~10 redraws a second, however much it prints — and at the end the final state is printed once, below
 * nothing that has to be erased again.
 */
import type { Writable } from 'node:stream';
import type { BuildDisplay } from './renderer.js';

const CSI = '\x1b[';

export interface TtyOptions {
  /** Redraw period in ms; default 100 (~10/s). */
  interval?: number;
  /** Rows of the terminal; the frame keeps to rows-1 lines. Default 24. */
  rows?: number;
}

export class TtyDisplay {
  readonly #out: Writable;
  readonly #display: BuildDisplay;
  readonly #interval: number;
  readonly #rows: number;
  #timer: NodeJS.Timeout | null = null;
  /** Lines of the frame on screen now. */
  #drawn = 0;

  constructor(out: Writable, display: BuildDisplay, opts: TtyOptions = {}) {
    this.#out = out;
    this.#display = display;
    this.#interval = opts.interval ?? 100;
    this.#rows = Math.max(5, opts.rows ?? 24);
  }

  start(): void {
    this.#out.write(`${CSI}?25l`);
    this.draw();
    // The clock in the header and rows moves even when no event comes: redraw on every tick.
    this.#timer = setInterval(() => this.draw(), this.#interval);
    this.#timer.unref();
  }

  draw(): void {
    const frame = this.#display.frame(this.#rows - 1);
    this.#out.write(this.#erase() + render(frame));
    this.#drawn = frame.length;
  }

  /** Stops redrawing and prints the final state in place of the last frame. */
  end(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const final = this.#display.final();
    this.#out.write(`${this.#erase()}${render(final)}${CSI}?25h`);
    this.#drawn = 0;
  }

  /** Cursor to the first line of the previous frame, everything below cleared. */
  #erase(): string {
    return this.#drawn > 0 ? `${CSI}${this.#drawn}A\r${CSI}J` : `\r${CSI}J`;
  }
}

function render(lines: string[]): string {
  return lines.map((l) => `${l}${CSI}K\n`).join('');
}
