import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { BuildDisplay, TtyDisplay, followBuildOnTty } from '../../../src/cli/build-display/index.js';
import { columns } from '../../../src/cli/build-display/renderer.js';
import type { StepEvent } from '../../../src/archive/index.js';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

/** A step row as the display lays it out: the text, then the time right-aligned in width-1 columns. */
const row = (left: string, time: string, width = 60): string => `${left.padEnd(width - 1 - time.length - 2)}  ${time}`;

const start = (step: number, stage: string, stageStep: number, stageSteps: number, name: string, line: number, total = 5): StepEvent =>
  ({ event: 'start', step, total, stage, stageStep, stageSteps, name, line, endLine: line, file: 'Dockerfile' });

describe('BuildDisplay', () => {
  it('shows a header with the elapsed time and finished/total, and one row per step with its duration', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 60 });
    d.event(start(1, 'build', 1, 3, 'FROM busybox AS build', 1));
    clock.advance(100);
    d.event({ event: 'done', step: 1 });
    d.event(start(2, 'build', 2, 3, 'RUN make', 2));
    clock.advance(1200);
    assert.deepEqual(d.frame(), [
      '[+] Building 1.3s (1/5)',
      row(' => [build 1/3] FROM busybox AS build', '0.1s'),
      row(' => [build 2/3] RUN make', '1.2s'),
    ]);
  });

  it('marks cache hits CACHED and keeps the last 6 output lines of a running step under it, without the classic protocol lines', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 60 });
    d.event(start(1, 'stage-0', 1, 3, 'FROM busybox', 1, 3));
    d.event({ event: 'done', step: 1 });
    d.event(start(2, 'stage-0', 2, 3, 'COPY a /a', 2, 3));
    d.event({ event: 'log', step: 2, text: 'Step 2/3 : COPY a /a\n ---> Using cache\n ---> 0123456789ab\n' });
    d.event({ event: 'cached', step: 2 });
    d.event(start(3, 'stage-0', 3, 3, 'RUN for i in 1 2 3 4 5 6 7 8; do echo $i; done', 3, 3));
    d.event({ event: 'log', step: 3, text: ' ---> Running in 0123456789ab\n1\n2\n3\n4\n5\n6\n7\n\x1b[31m8' });
    clock.advance(50);
    const frame = d.frame();
    // A single-stage build is shown without the stage name, as BuildKit does.
    assert.equal(frame[2], row(' => CACHED [2/3] COPY a /a', '0.0s'));
    assert.equal(frame[3], row(' => [3/3] RUN for i in 1 2 3 4 5 6 7 8; do echo $i...', '0.1s'));
    assert.deepEqual(frame.slice(4), ['3', '4', '5', '6', '7', '8'].map((n) => ` => => # ${n}`));
  });

  it('cuts long rows to the width and keeps to the rows it may use, header first', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 40 });
    for (let i = 1; i <= 5; i++) {
      d.event(start(i, 'stage-0', i, 5, `RUN echo ${'x'.repeat(60)} ${i}`, i));
      d.event({ event: 'done', step: i });
    }
    const rows = d.frame(3);
    assert.equal(rows.length, 3);
    assert.equal(rows[0], '[+] Building 0.0s (5/5)');
    assert.equal(rows[2], row(` => [5/5] RUN echo ${'x'.repeat(11)}...`, '0.0s', 40));
    assert.ok(rows.every((r) => r.length < 40), 'no row reaches the last column');
  });

  it('ends with FINISHED, every step, and the export with its tags', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 60 });
    d.event(start(1, 'stage-0', 1, 1, 'FROM busybox', 1, 1));
    clock.advance(2000);
    d.event({ event: 'done', step: 1 });
    d.finish({ id: 'sha256:abc', tags: ['docker.io/library/app:1'] });
    clock.advance(5000);
    assert.deepEqual(d.final(), [
      '[+] Building 2.0s (1/1) FINISHED',
      row(' => [1/1] FROM busybox', '2.0s'),
      row(' => exporting to image', '0.0s'),
      ' => => writing image sha256:abc',
      ' => => naming to docker.io/library/app:1',
    ]);
  });

  it('shows a failing step in full, the Dockerfile lines around it, and names the line in the error', () => {
    const clock = fakeClock();
    const dockerfile = 'FROM busybox\nENV A=1\nRUN echo a; \\\n  exit 3\nCMD ["sh"]\n';
    const d = new BuildDisplay({ now: clock.now, width: 60, dockerfile, tailLines: 2 });
    d.event(start(1, 'stage-0', 1, 4, 'FROM busybox', 1, 4));
    d.event({ event: 'done', step: 1 });
    d.event({ ...start(2, 'stage-0', 3, 4, 'RUN echo a;   exit 3', 3, 4), endLine: 4 });
    d.event({ event: 'log', step: 2, text: Array.from({ length: 10 }, (_, i) => `out ${i}\n`).join('') });
    clock.advance(300);
    const message = "The command '/bin/sh -c echo a;   exit 3' returned a non-zero code: 3";
    d.event({ event: 'error', step: 2, error: message });
    d.finish({ error: message });
    const final = d.final();
    assert.equal(final[0], '[+] Building 0.3s (2/4)');
    assert.equal(final[2], row(' => ERROR [3/4] RUN echo a;   exit 3', '0.3s'));
    // Not clipped to the live tail (2 lines here): all ten lines.
    const out = final.slice(final.indexOf(' > [3/4] RUN echo a;   exit 3:') + 1, final.indexOf('------', 4));
    assert.deepEqual(out, Array.from({ length: 10 }, (_, i) => `out ${i}`));
    assert.deepEqual(final.slice(-8), [
      'Dockerfile:3',
      '--------------------',
      '       1 | FROM busybox',
      '       2 | ENV A=1',
      ' >>>   3 | RUN echo a; \\',
      ' >>>   4 |   exit 3',
      '       5 | CMD ["sh"]',
      '--------------------',
    ]);
    assert.equal(d.errorMessage(), `Dockerfile:3: ${message}`);
  });

  it('marks the steps still running when the build failed without a step error as ERROR', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 60 });
    d.event(start(1, 'stage-0', 1, 2, 'FROM nothere', 1, 2));
    d.finish({ error: 'pull access denied for nothere' });
    assert.match(d.final()[1] as string, /^ => ERROR \[1\/2\] FROM nothere/);
    assert.equal(d.errorMessage(), 'Dockerfile:1: pull access denied for nothere');
  });
});

describe('TtyDisplay', () => {
  it('redraws in place over the previous frame and prints the final state once, cursor shown again', () => {
    let written = '';
    const out = new Writable({ write(chunk, _enc, cb) { written += String(chunk); cb(); } });
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 50 });
    const tty = new TtyDisplay(out, d, { interval: 60_000 });
    tty.start();
    d.event(start(1, 'stage-0', 1, 1, 'FROM busybox', 1, 1));
    tty.draw();
    d.event({ event: 'done', step: 1 });
    d.finish({ id: 'sha256:abc', tags: [] });
    tty.end();
    // Hidden cursor, a one-line frame, a two-line frame drawn 1 line up, the final frame 2 lines up.
    assert.ok(written.startsWith('\x1b[?25l\r\x1b[J[+] Building 0.0s (0/0)\x1b[K\n'));
    assert.ok(written.includes('\x1b[1A\r\x1b[J[+] Building 0.0s (0/1)\x1b[K\n'));
    assert.ok(written.includes('\x1b[2A\r\x1b[J[+] Building 0.0s (1/1) FINISHED\x1b[K\n'));
    assert.ok(written.endsWith('\x1b[?25h'));
  });
});

describe('followBuildOnTty', () => {
  it('reads the steps from the classic lines when the daemon sends no step events (dockerd)', async () => {
    let written = '';
    const out = new Writable({ write(chunk, _enc, cb) { written += String(chunk); cb(); } });
    const messages = [
      { stream: 'Step 1/3 : FROM busybox\n' }, { stream: ' ---> 0123456789ab\n' },
      { stream: 'Step 2/3 : COPY a /a\n' }, { stream: ' ---> Using cache\n' }, { stream: ' ---> 0123456789ac\n' },
      { stream: 'Step 3/3 : RUN echo hi\n' }, { stream: ' ---> Running in 0123456789ad\n' }, { stream: 'hi\n' },
      { stream: 'Removing intermediate container 0123456789ad\n' }, { stream: ' ---> 0123456789ae\n' },
      { aux: { ID: 'sha256:0123456789ae' } }, { stream: 'Successfully built 0123456789ae\n' },
    ];
    async function* stream(): AsyncGenerator<(typeof messages)[number]> { yield* messages; }
    const id = await followBuildOnTty(stream(), { out, width: 60, tags: ['app'] });
    assert.equal(id, 'sha256:0123456789ae');
    const final = written.slice(written.lastIndexOf('\x1b[J') + 3).split('\x1b[K\n');
    assert.match(final[0] as string, /^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED$/);
    assert.match(final[1] as string, /^ => \[1\/3\] FROM busybox +\d+\.\ds$/);
    assert.match(final[2] as string, /^ => CACHED \[2\/3\] COPY a \/a +\d+\.\ds$/);
    assert.match(final[3] as string, /^ => \[3\/3\] RUN echo hi +\d+\.\ds$/);
    assert.ok(final.includes(' => => naming to docker.io/library/app:latest'));
  });

  it('throws the daemon\'s error with the exit code it gives', async () => {
    const out = new Writable({ write(_c, _e, cb) { cb(); } });
    async function* stream(): AsyncGenerator<object> {
      yield { id: 'hako.build.step', aux: { event: 'start', step: 1, total: 1, stage: 'stage-0', stageStep: 1, stageSteps: 1, name: 'RUN exit 4', line: 2, endLine: 2, file: 'Dockerfile' } };
      yield { id: 'hako.build.step', aux: { event: 'error', step: 1, error: 'returned a non-zero code: 4' } };
      yield { errorDetail: { code: 4, message: 'returned a non-zero code: 4' }, error: 'returned a non-zero code: 4' };
    }
    await assert.rejects(followBuildOnTty(stream(), { out }), (err: unknown) => {
      assert.equal((err as { status: number }).status, 4);
      assert.equal((err as Error).message, 'ERROR: Dockerfile:2: returned a non-zero code: 4');
      return true;
    });
  });
});

describe('BuildDisplay with wide characters', () => {
  it('counts Japanese text as two columns a character, so no row wraps', () => {
    const clock = fakeClock();
    const d = new BuildDisplay({ now: clock.now, width: 40 });
    d.event(start(1, 'stage-0', 1, 1, 'RUN echo こんにちは世界、ビルドです', 1, 1));
    d.event({ event: 'log', step: 1, text: 'こんにちは世界、ビルドの出力です\n' });
    const [, stepRow, logRow] = d.frame();
    assert.equal(columns(stepRow as string), 39);
    assert.equal(stepRow, ' => [1/1] RUN echo こんにちは...   0.0s');
    assert.equal(logRow, ' => => # こんにちは世界、ビルドの出...');
    assert.equal(columns(logRow as string), 38);
  });
});
