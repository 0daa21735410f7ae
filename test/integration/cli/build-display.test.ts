/**
 * `hako build`'s TTY display under a real pseudo-terminal (script(1) from util-linux), against a
 * real hakod: what a user sees once the escape sequences are applied — the step rows with their
 * timings, CACHED on a rebuild, the final summary, a failing step's whole output and its
 * Dockerfile line — and `--progress plain|quiet`, `-q` without the display.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT, run, startHakod, type Hakod, type RunResult } from '../../support/hakod.js';
import { screen } from '../../support/terminal-screen.js';


describe('hako build on a terminal', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-build-display-'));
  const ctx = join(work, 'ok');
  const bad = join(work, 'bad');
  const onTty = (args: string, cols = 100): Promise<RunResult> =>
    run('script', ['-qfec', `stty rows 40 cols ${cols}; ${process.execPath} ${join(REPO_ROOT, 'bin/hako')} -H ${d.host} ${args}`, '/dev/null'],
      { holdStdin: true, env: d.env as Record<string, string>, timeoutMs: 60_000 });

  before(async () => {
    d = await startHakod();
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), [
      'FROM busybox AS build',
      'RUN for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.05; done > /dev/stderr; echo built > /out',
      'COPY a.txt /a.txt',
      'FROM busybox',
      'COPY --from=build /out /out',
      'CMD ["cat", "/out"]',
    ].join('\n'));
    writeFileSync(join(ctx, 'a.txt'), 'a\n');
    mkdirSync(bad);
    writeFileSync(join(bad, 'Dockerfile'), [
      'FROM busybox',
      'ENV A=1',
      'RUN for i in 1 2 3 4 5 6 7 8 9 10; do echo out $i; done; \\',
      '    exit 3',
      'CMD ["sh"]',
    ].join('\n'));
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('draws the steps in place with their timings and ends with the summary', async () => {
    const r = await onTty(`build -t disp:1 ${ctx}`);
    assert.equal(r.code, 0, `${r.stdout}\n${d.logTail(15)}`);
    assert.match(r.stdout, /\x1b\[\d+A/, 'frames are redrawn in place (cursor up)');
    assert.ok(r.stdout.endsWith('\x1b[?25h'), 'the cursor is shown again');
    const shown = screen(r.stdout);
    const text = shown.join('\n');
    assert.match(shown[0] as string, /^\[\+\] Building \d+\.\ds \(6\/6\) FINISHED$/, text);
    assert.match(text, /^ => \[build 1\/3\] FROM busybox AS build +\d+\.\ds$/m);
    // A row longer than the terminal is cut, its time kept at the right edge.
    assert.match(text, /^ => \[build 2\/3\] RUN for i in 1 2 3 4 5 6 7 8; do echo line \$i; sleep 0\.05; done > \/dev\/std\.\.\. +\d+\.\ds$/m);
    assert.match(text, /^ => \[stage-1 2\/3\] COPY --from=build \/out \/out +\d+\.\ds$/m);
    assert.match(text, /^ => => naming to docker\.io\/library\/disp:1$/m);
    // The running step's output was shown under it while it ran, and is gone from the summary.
    assert.match(r.stdout, / => => # line 8/);
    assert.doesNotMatch(text, /line 8/);
    const cat = await d.hako(['run', '--rm', 'disp:1']);
    assert.equal(cat.stdout, 'built\n');
  });

  it('says CACHED for every step a rebuild takes from the cache', async () => {
    const text = screen((await onTty(`build -t disp:1 ${ctx}`)).stdout).join('\n');
    assert.match(text, /^ => CACHED \[build 2\/3\] RUN for i in/m);
    assert.match(text, /^ => CACHED \[build 3\/3\] COPY a\.txt \/a\.txt +0\.\ds$/m);
    assert.match(text, /^ => CACHED \[stage-1 2\/3\] COPY --from=build/m);
    assert.match(text, /\(6\/6\) FINISHED/);
  });

  it('shows a failing step\'s whole output, its Dockerfile lines, and exits with its code; nothing is tagged', async () => {
    const r = await onTty(`build -t fail:1 ${bad}`, 60);
    assert.equal(r.code, 3, r.stdout);
    const shown = screen(r.stdout);
    const text = shown.join('\n');
    assert.match(text, /^ => ERROR \[3\/4\] RUN for i in 1 2 3 4 5 6 7 8 9 10;\.\.\. +\d+\.\ds$/m);
    const first = shown.indexOf(' > [3/4] RUN for i in 1 2 3 4 5 6 7 8 9 10; do echo out $i; done;     exit 3:');
    assert.ok(first > 0, text);
    assert.deepEqual(shown.slice(first + 1, first + 11), Array.from({ length: 10 }, (_, i) => `out ${i + 1}`));
    assert.match(text, /^Dockerfile:3\n-+\n {7}1 \| FROM busybox\n {7}2 \| ENV A=1\n >>> {3}3 \| RUN for i in .*\n >>> {3}4 \|     exit 3\n {7}5 \| CMD \["sh"\]\n-+$/m);
    assert.match(text, /^ERROR: Dockerfile:3: The command '\/bin\/sh -c for i in .*exit 3' returned a non-zero code: 3$/m);
    const ls = await d.hako(['images', '-q', 'fail:1']);
    assert.equal(ls.stdout, '');
  });

  it('names the failing step\'s Dockerfile line without a terminal too, after its whole output', async () => {
    const r = await d.hako(['build', bad], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, new RegExp(`${Array.from({ length: 10 }, (_, i) => `out ${i + 1}`).join('\\n')}\\n`));
    assert.match(r.stderr, /^Dockerfile:3: The command '\/bin\/sh -c for i in .*exit 3' returned a non-zero code: 3$/m);
  });

  it('keeps the line output with --progress=plain and prints only the id with --progress=quiet and -q', async () => {
    const plain = await onTty(`build --progress=plain ${ctx}`);
    assert.equal(plain.code, 0, plain.stdout);
    assert.doesNotMatch(plain.stdout, /\x1b\[/);
    assert.match(plain.stdout, /^#2 \[2\/6\] RUN for i in/m);
    assert.match(plain.stdout, /^#2 CACHED\r?$/m);
    for (const flag of ['--progress=quiet', '-q']) {
      const q = await onTty(`build ${flag} ${ctx}`);
      assert.equal(q.code, 0, q.stdout);
      assert.match(q.stdout, /^sha256:[0-9a-f]{64}\r?\n$/);
    }
  });
});
