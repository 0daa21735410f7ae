import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STEP_EVENT_ID } from '../../../src/archive/index.js';
import { StepEvents, type StepInfo } from '../../../src/build/step-events.js';

const info = (step: number, stage = 'stage-0'): StepInfo =>
  ({ step, total: 4, stage, stageStep: step, stageSteps: 4, name: `RUN step ${step}`, line: step, endLine: step, file: 'Dockerfile' });

describe('StepEvents', () => {
  it('sends start, the step\'s output, and done or cached when the next step starts or the stage ends', () => {
    const sent: unknown[] = [];
    const ev = new StepEvents((m) => sent.push(m));
    const stage = {};
    ev.start(stage, info(1));
    ev.log(stage, 'hello\n');
    ev.start(stage, info(2));
    ev.log(stage, ' ---> Using cache\n');
    ev.done(stage);
    ev.log(stage, 'after the stage: nobody\'s output\n');
    assert.ok(sent.every((m) => (m as { id: string }).id === STEP_EVENT_ID));
    assert.deepEqual(sent.map((m) => (m as { aux: { event: string; step: number; text?: string } }).aux).map(({ event, step, text }) => [event, step, text]), [
      ['start', 1, undefined],
      ['log', 1, 'hello\n'],
      ['done', 1, undefined],
      ['start', 2, undefined],
      ['log', 2, ' ---> Using cache\n'],
      ['cached', 2, undefined],
    ]);
  });

  it('keeps the steps of stages running at the same time apart, and reports an error for the failing one', () => {
    const sent: Array<{ aux: { event: string; step: number; error?: string } }> = [];
    const ev = new StepEvents((m) => sent.push(m as never));
    const a = {};
    const b = {};
    ev.start(a, info(1, 'a'));
    ev.start(b, info(3, 'b'));
    ev.log(a, 'from a\n');
    ev.error(b, 'exit 3');
    ev.done(a);
    assert.deepEqual(sent.map((m) => [m.aux.event, m.aux.step, m.aux.error]), [
      ['start', 1, undefined],
      ['start', 3, undefined],
      ['log', 1, undefined],
      ['error', 3, 'exit 3'],
      ['done', 1, undefined],
    ]);
  });
});
