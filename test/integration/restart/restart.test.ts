/**
 * hakod crashes (SIGKILL) while containers run: conmon keeps them and their logs, and a new
 * hakod on the same roots picks them up: running ones stay running with no gap in their logs,
 * ones that exited meanwhile show their exit code and when they finished.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHakod, type Hakod, type RunResult } from '../../support/hakod.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ok(r: RunResult, d: Hakod): string {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- hakod log ---\n${d.logTail(20)}`);
  return r.stdout;
}

/** The line numbers of "line N" output, asserting every line has that shape. */
function lineNumbers(out: string): number[] {
  const lines = out.split('\n').filter((l) => l !== '');
  return lines.map((l) => {
    const m = /^line (\d+)$/.exec(l);
    assert.ok(m, `unexpected log line ${JSON.stringify(l)}`);
    return Number(m[1]);
  });
}

function assertConsecutive(nums: number[]): void {
  nums.forEach((n, i) => assert.equal(n, i + 1, `log line ${i + 1} is "line ${n}": lines lost or repeated around it (${nums.slice(Math.max(0, i - 3), i + 3).join(',')})`));
}

describe('hakod restart after a crash', () => {
  let d: Hakod;
  let linesBeforeKill = 0;
  let killedAt = 0;
  let restartedAt = 0;
  let r2StartedAt = '';

  before(async () => {
    // live-restore: a graceful restart leaves containers running (without it hakod stops them).
    d = await startHakod({ args: ['--live-restore'] });
    ok(await d.docker(['run', '-d', '--name', 'r1', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done']), d);
    await sleep(1000);
    linesBeforeKill = lineNumbers(ok(await d.docker(['logs', 'r1']), d)).length;
    // r2 is still running when hakod dies and exits while it is down.
    ok(await d.docker(['run', '-d', '--name', 'r2', 'busybox', 'sh', '-c', 'sleep 0.8; exit 42']), d);
    r2StartedAt = ok(await d.docker(['inspect', 'r2', '--format', '{{.State.StartedAt}}']), d).trim();
    killedAt = Date.now();
    await d.kill9();
    await sleep(1500); // r1 keeps writing, r2 exits
    restartedAt = Date.now();
    await d.restart();
  });
  after(async () => { await d?.stop(); });

  it('a container that ran through the crash is still running', async () => {
    assert.ok(linesBeforeKill >= 3, `r1 logged ${linesBeforeKill} lines in its first second`);
    const ps = ok(await d.docker(['ps', '--filter', 'name=r1', '--format', '{{.Names}} {{.Status}}']), d);
    assert.match(ps, /^r1 Up /, ps);
    assert.equal(ok(await d.docker(['inspect', 'r1', '--format', '{{.State.Status}} {{.State.Running}}']), d), 'running true\n');
  });

  it('its logs have every line, also the ones written while hakod was down', async () => {
    await sleep(500);
    const nums = lineNumbers(ok(await d.docker(['logs', 'r1']), d));
    assertConsecutive(nums);
    // 1.5 s down at one line every 0.2 s (plus the time sh takes): several lines were written with no daemon.
    assert.ok(nums.length >= linesBeforeKill + 6, `${nums.length} lines after restart, ${linesBeforeKill} before the kill`);
  });

  it('docker logs -f follows it after the restart', async () => {
    const r = await d.docker(['logs', '-f', '--tail', '1', 'r1'], { timeoutMs: 2000 }).catch((e: Error) => e);
    // -f never ends on its own for a running container: the helper kills it at the timeout,
    // and what it printed before must be new lines.
    assert.ok(r instanceof Error, 'logs -f of a running container ended by itself');
    const printed = /stdout so far: (".*")/.exec(r.message)?.[1];
    const nums = lineNumbers(JSON.parse(printed ?? '""') as string);
    assert.ok(nums.length >= 5, `logs -f printed ${nums.length} lines in 2 s: ${r.message}`);
    nums.forEach((n, i) => i > 0 && assert.equal(n, nums[i - 1]! + 1));
  });

  it('a container that exited while hakod was down shows Exited with its code and finish time', async () => {
    const ps = ok(await d.docker(['ps', '-a', '--filter', 'name=r2', '--format', '{{.Names}} {{.Status}}']), d);
    assert.match(ps, /^r2 Exited \(42\) /, ps);
    const state = ok(await d.docker(['inspect', 'r2', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt}}']), d).trim();
    const [status, code, finishedAt] = state.split(' ');
    assert.equal(status, 'exited');
    assert.equal(code, '42');
    const finished = Date.parse(finishedAt ?? '');
    assert.ok(Number.isFinite(finished) && !finishedAt!.startsWith('0001-'), `FinishedAt ${finishedAt}`);
    assert.ok(finished >= Date.parse(r2StartedAt), `FinishedAt ${finishedAt} before StartedAt ${r2StartedAt}`);
    // It exited about 0.8 s after it started, while hakod was down: the time comes from the
    // exit, not from when the new hakod noticed it.
    assert.ok(finished >= killedAt - 1000 && finished <= restartedAt, `FinishedAt ${finishedAt} is not between the kill (${new Date(killedAt).toISOString()}) and the restart (${new Date(restartedAt).toISOString()})`);
    assert.equal(ok(await d.docker(['wait', 'r2'], { timeoutMs: 5000 }), d), '42\n');
  });

  it('docker stop -t 1 then docker rm work on the adopted container', async () => {
    const r = await d.docker(['stop', '-t', '1', 'r1'], { timeoutMs: 15_000 });
    assert.equal(ok(r, d), 'r1\n');
    // sh as pid 1 does not die of SIGTERM (no handler, pid 1): docker kills it after 1 s.
    const code = ok(await d.docker(['inspect', 'r1', '--format', '{{.State.ExitCode}}']), d).trim();
    assert.ok(code === '137' || code === '143', `exit code ${code}`);
    assert.equal(ok(await d.docker(['rm', 'r1']), d), 'r1\n');
    assert.equal(ok(await d.docker(['rm', 'r2']), d), 'r2\n');
    assert.equal(ok(await d.docker(['ps', '-aq']), d), '');
  });

  it('a graceful restart (SIGTERM) with live-restore keeps a running container too', async () => {
    ok(await d.docker(['run', '-d', '--name', 'r3', 'busybox', 'sleep', '300']), d);
    const pid = ok(await d.docker(['inspect', 'r3', '--format', '{{.State.Pid}}']), d).trim();
    await d.restart();
    assert.equal(ok(await d.docker(['inspect', 'r3', '--format', '{{.State.Status}} {{.State.Pid}}']), d), `running ${pid}\n`);
    ok(await d.docker(['rm', '-f', 'r3'], { timeoutMs: 15_000 }), d);
  });
});
