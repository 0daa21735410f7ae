/**
 * Sends the structured step events of a build (their wire shape: archive/step-events.ts), only
 * when the client asks for them (POST /build?hakosteps=1), beside the classic builder's `stream`
 * lines. Timings are left to the client (it stamps arrivals).
 */
import { STEP_EVENT_ID, type StepEvent } from '../archive/index.js';
import type { Json } from '../engine/contract.js';

export interface StepInfo {
  step: number;
  total: number;
  stage: string;
  stageStep: number;
  stageSteps: number;
  name: string;
  line: number;
  endLine: number;
  file: string;
}

/**
 * Follows the steps of the stages running at the same time: `key` is the stage's output sink
 * (one per running stage), so the text a stage says is the log of its current step.
 */
export class StepEvents {
  readonly #emit: (msg: Json) => void;
  readonly #current = new Map<object, { step: number; cached: boolean }>();

  constructor(emit: (msg: Json) => void) {
    this.#emit = emit;
  }

  #send(ev: StepEvent): void {
    this.#emit({ id: STEP_EVENT_ID, aux: ev as unknown as Json });
  }

  start(key: object, info: StepInfo): void {
    this.#end(key, 'done');
    this.#current.set(key, { step: info.step, cached: false });
    this.#send({ event: 'start', ...info });
  }

  /** Output of the stage's current step. The classic builder's " ---> Using cache" marks a hit. */
  log(key: object, text: string): void {
    const cur = this.#current.get(key);
    if (!cur) return;
    if (text === ' ---> Using cache\n') cur.cached = true;
    this.#send({ event: 'log', step: cur.step, text });
  }

  /** The stage's current step succeeded (cached or done). */
  done(key: object): void {
    this.#end(key, 'done');
  }

  error(key: object, message: string): void {
    const cur = this.#current.get(key);
    if (!cur) return;
    this.#current.delete(key);
    this.#send({ event: 'error', step: cur.step, error: message });
  }

  #end(key: object, how: 'done'): void {
    const cur = this.#current.get(key);
    if (!cur) return;
    this.#current.delete(key);
    this.#send({ event: cur.cached ? 'cached' : how, step: cur.step });
  }
}
