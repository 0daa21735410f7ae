/**
 * `hako build`'s TTY display (--progress=tty, or auto on a terminal): follows the /build JSON
 * stream with hakod's step events (`{id: "hako.build.step", aux}`, src/archive/step-events.ts),
 * draws BuildKit-like frames (renderer.ts, tty.ts) on stderr as buildx does, and prints the final
 * state once. The classic `stream` lines are not shown, except the builder's warnings after the end.
 */
import type { Writable } from 'node:stream';
import { STEP_EVENT_ID, type StepEvent } from '../../archive/index.js';
import { StatusError } from '../errors.js';
import { BuildDisplay } from './renderer.js';
import { TtyDisplay } from './tty.js';

export { BuildDisplay, type DisplayOptions } from './renderer.js';
export { TtyDisplay, type TtyOptions } from './tty.js';

interface Message {
  id?: string;
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

export interface FollowOptions {
  out: Writable;
  width?: number;
  rows?: number;
  /** The tags asked for, shown as `naming to …`. */
  tags?: string[];
  dockerfile?: string;
}

/** Shows the build until the stream ends; returns the image id, or throws StatusError with the build's error. */
export async function followBuildOnTty(messages: AsyncIterable<Message>, opts: FollowOptions): Promise<string> {
  const display = new BuildDisplay({ ...(opts.width ? { width: opts.width } : {}), ...(opts.dockerfile !== undefined ? { dockerfile: opts.dockerfile } : {}) });
  const screen = new TtyDisplay(opts.out, display, { ...(opts.rows ? { rows: opts.rows } : {}) });
  const warnings: string[] = [];
  let id = '';
  let ended = false;
  // A hidden cursor must not outlive the command; Ctrl-C shows the state reached, then exits as
  // a signal would (closing the connection cancels the build in the daemon).
  const restore = (): void => { opts.out.write('\x1b[?25h'); };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!ended) {
      ended = true;
      display.finish({ error: 'canceled' });
      screen.end();
    }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', restore);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  screen.start();
  // A daemon that sends no step events (dockerd, an older hakod): steps read from the classic lines.
  let fromStream: ClassicSteps | null = new ClassicSteps();
  try {
    for await (const msg of messages) {
      if (msg.error || msg.errorDetail?.message) {
        const message = msg.errorDetail?.message ?? msg.error ?? 'build failed';
        display.finish({ error: message });
        screen.end();
        ended = true;
        const code = msg.errorDetail?.code;
        throw new StatusError(typeof code === 'number' && code > 0 ? code : 1, `ERROR: ${display.errorMessage() ?? message}`);
      }
      if (msg.id === STEP_EVENT_ID && msg.aux && typeof msg.aux === 'object') {
        fromStream = null;
        display.event(msg.aux as StepEvent);
        continue;
      }
      const aux = msg.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
      if (typeof msg.stream === 'string') {
        for (const line of msg.stream.split('\n')) if (line.startsWith('[Warning]')) warnings.push(line);
        if (fromStream) for (const ev of fromStream.text(msg.stream)) display.event(ev);
      }
    }
    if (!id) {
      display.finish({ error: 'the daemon ended the build without an image id' });
      screen.end();
      ended = true;
      throw new StatusError(1, 'the daemon ended the build without an image id');
    }
    display.finish({ id, tags: (opts.tags ?? []).map(qualified) });
    screen.end();
    ended = true;
    for (const w of warnings) opts.out.write(`${w}\n`);
    return id;
  } finally {
    if (!ended) {
      display.finish({ error: 'canceled' });
      screen.end();
    }
    process.off('exit', restore);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Step events from the classic builder's own lines (`Step 2/5 : RUN make`, ` ---> Using cache`,
 * the output between), for daemons that do not send hako's: no stage names, no Dockerfile lines.
 */
class ClassicSteps {
  #step = 0;
  #cached = false;
  #partial = '';

  text(chunk: string): StepEvent[] {
    const out: StepEvent[] = [];
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
      if (m) {
        if (this.#step > 0) out.push({ event: this.#cached ? 'cached' : 'done', step: this.#step });
        this.#step = Number(m[1]);
        this.#cached = false;
        out.push({ event: 'start', step: this.#step, total: Number(m[2]), stage: '', stageStep: this.#step, stageSteps: Number(m[2]), name: m[3] as string });
        continue;
      }
      if (this.#step === 0) continue;
      if (line === ' ---> Using cache') this.#cached = true;
      if (/^Successfully built /.test(line)) {
        out.push({ event: this.#cached ? 'cached' : 'done', step: this.#step });
        this.#step = 0;
        continue;
      }
      out.push({ event: 'log', step: this.#step, text: `${line}\n` });
    }
    return out;
  }
}

/** BuildKit's `naming to docker.io/library/app:latest`. */
function qualified(tag: string): string {
  let ref = /:[^/]*$/.test(tag) || tag.includes('@') ? tag : `${tag}:latest`;
  const first = ref.split('/')[0] as string;
  if (!ref.includes('/')) ref = `docker.io/library/${ref}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') ref = `docker.io/${ref}`;
  return ref;
}
