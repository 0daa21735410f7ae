/**
 * The wire shape of the structured build step events (`POST /build?hakosteps=1`): one JSON
 * message `{"id": "hako.build.step", "aux": StepEvent}` per event, beside the classic builder's
 * `stream` lines. The builder sends them (build/step-events.ts), `hako build`'s TTY display reads
 * them (cli/build-display/). docker's CLI hands every `aux` message to its callback and prints
 * nothing for it, so a docker CLI that asked would show the same output.
 */

export const STEP_EVENT_ID = 'hako.build.step';

export interface StepEvent {
  /** start: the step began; log: output of the running step; cached | done | error: it ended. */
  event: 'start' | 'log' | 'cached' | 'done' | 'error';
  /** "Step n/total" of the classic output: unique in the build. */
  step: number;
  total?: number;
  /** The stage's name, or `stage-N` (BuildKit's label), and the step's place in it (FROM is 1). */
  stage?: string;
  stageStep?: number;
  stageSteps?: number;
  /** The instruction as written, and its first line in the Dockerfile (0: added by the builder). */
  name?: string;
  line?: number;
  endLine?: number;
  file?: string;
  text?: string;
  error?: string;
}
