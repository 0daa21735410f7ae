/**
 * Supervision through the real docker CLI (and hako's): health checks in inspect/ps/events,
 * `docker events` with since/until/filters/format, `update --restart`, restart policies across a
 * hakod restart, and docker's messages for bad input.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHakod, DOCKER, type Hakod } from '../support/hakod.js';
import { ok, fails, eventually } from './expect.js';

/** Streams `docker events ARGS` until a line matches; kills the one process it spawned. */
function awaitEvent(d: Hakod, args: string[], match: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, ['-H', d.host, 'events', ...args], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => finish(new Error(`no event matching ${match} within ${timeoutMs} ms; got:\n${out}${err}`)), timeoutMs);
    let done = false;
    const finish = (e: Error | null, line?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGTERM');
      if (e) reject(e);
      else resolve(line!);
    };
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      // Only whole lines: docker's CLI writes a formatted event in several pieces.
      const line = out.split('\n').slice(0, -1).find((l) => match.test(l));
      if (line !== undefined) finish(null, line);
    });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.once('exit', (code) => { if (code !== null && code !== 0 && !out) finish(new Error(`docker events exited ${code}: ${err}`)); });
  });
}

const unixNow = (): string => (Date.now() / 1000).toFixed(3);

describe('supervision through the docker CLI', () => {
  let d: Hakod;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-supervision-'));
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  /** A build context holding just this Dockerfile. */
  const context = (name: string, lines: string[]): string => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), `${lines.join('\n')}\n`);
    return dir;
  };
  const classic = { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 60_000 };

  it('a health check shows in docker events, inspect --format {{.State.Health.Status}} and ps --filter health=', async () => {
    // --since replays what happened before `docker events` subscribed: no race with the run.
    const seen = awaitEvent(d, ['--since', unixNow(), '--filter', 'container=h1', '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], /healthy/);
    ok(await d.docker(['run', '-d', '--name', 'h1', '--health-cmd', 'test -d /', '--health-interval', '100ms', '--health-retries', '2', 'busybox', 'sleep', '300']), d);
    assert.equal(await seen, 'health_status: healthy h1');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.Health.Status}} {{.State.Health.FailingStreak}}', 'h1']), d), 'healthy 0\n');
    assert.match(ok(await d.docker(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}|{{.Status}}']), d), /^h1\|Up .* \(healthy\)\n$/);
    assert.equal(ok(await d.docker(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}}']), d), '');
    assert.equal(ok(await d.hako(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}']), d), 'h1\n');
    fails(await d.docker(['ps', '--filter', 'health=sick']), /Unrecognised filter value for health: sick/, d);
  });

  it('an unhealthy container is reported, and hako run --health-on-failure restart brings it back', async () => {
    ok(await d.hako(['run', '-d', '--name', 'h2', '--init', '--health-cmd', 'false', '--health-interval', '100ms', '--health-retries', '1',
      '--health-on-failure', 'restart', 'busybox', 'sleep', '300']), d);
    await eventually(async () => {
      const out = ok(await d.docker(['inspect', '--format', '{{.RestartCount}} {{.State.Running}}', 'h2']), d);
      return out === '1 true\n' || undefined;
    }, 'h2 restarted once after turning unhealthy');
    fails(await d.hako(['run', '--health-on-failure', 'explode', 'busybox', 'true']), /invalid argument "explode" for "--health-on-failure" flag/, d);
  });

  it('docker events --since/--until replays create, start, die with the exit code, destroy in order', async () => {
    const since = unixNow();
    ok(await d.docker(['run', '-d', '--name', 'ev1', '--label', 'team=blue', 'busybox', 'sh', '-c', 'exit 3']), d);
    assert.equal(ok(await d.docker(['wait', 'ev1']), d), '3\n');
    ok(await d.docker(['rm', 'ev1']), d);
    const until = unixNow();
    const fmt = '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}} {{.Actor.Attributes.team}} {{.Actor.Attributes.exitCode}}';
    const out = ok(await d.docker(['events', '--since', since, '--until', until, '--filter', 'container=ev1', '--format', fmt]), d);
    assert.deepEqual(out.trim().split('\n'), [
      'container create ev1 busybox blue <no value>',
      'container start ev1 busybox blue <no value>',
      'container die ev1 busybox blue 3',
      'container destroy ev1 busybox blue <no value>',
    ]);
    // Filters AND across keys, OR within one; label filters need the label.
    const dies = ok(await d.docker(['events', '--since', since, '--until', until, '--filter', 'event=die', '--filter', 'event=destroy', '--filter', 'label=team=blue', '--format', '{{.Action}}']), d);  // h2 has no team label
    assert.equal(dies, 'die\ndestroy\n');
    assert.equal(ok(await d.docker(['events', '--since', since, '--until', until, '--filter', 'label=team=red']), d), '');
    // hako events prints docker's default line: time, type, action, id, sorted attributes.
    // Scoped to ev1: h2 of the test before keeps dying and restarting on its failing health check.
    const line = ok(await d.hako(['events', '--since', since, '--until', until, '--filter', 'container=ev1', '--filter', 'event=die']), d).trim();
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(exitCode=3, image=busybox, name=ev1, team=blue\)$/);
    const json = JSON.parse(ok(await d.hako(['events', '--since', since, '--until', until, '--filter', 'container=ev1', '--filter', 'event=start', '--format', 'json']), d)) as { Action: string; status: string };
    assert.equal(json.Action, 'start');
    assert.equal(json.status, 'start');
    fails(await d.docker(['events', '--since', since, '--until', until, '--filter', 'colour=blue']), /invalid filter 'colour'/, d);
  });

  it('docker update --restart changes the policy; bad policies get docker\'s messages', async () => {
    ok(await d.docker(['create', '--name', 'u1', 'busybox', 'true']), d);
    assert.equal(ok(await d.docker(['update', '--restart', 'on-failure:3', 'u1']), d), 'u1\n');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'u1']), d), 'on-failure:3\n');
    assert.equal(ok(await d.hako(['update', '--restart', 'always', 'u1']), d), 'u1\n');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.HostConfig.RestartPolicy.Name}}', 'u1']), d), 'always\n');
    for (const cli of ['docker', 'hako'] as const) {
      const runCli = (args: string[]) => (cli === 'docker' ? d.docker(args) : d.hako(args));
      fails(await runCli(['run', '--restart', 'sometimes', 'busybox', 'true']),
        /invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/, d);
      fails(await runCli(['run', '--restart', 'on-failure:-1', 'busybox', 'true']), /invalid restart policy: maximum retry count cannot be negative/, d);
      fails(await runCli(['run', '--health-interval', '0.5x', 'busybox', 'true']), /invalid argument "0.5x" for "--health-interval" flag/, d);
    }
    ok(await d.docker(['rm', 'u1']), d);
  });

  it('after hakod restarts, always and unless-stopped containers come back; a user-stopped unless-stopped one does not', async () => {
    ok(await d.docker(['run', '-d', '--init', '--name', 'us1', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['run', '-d', '--init', '--name', 'us2', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['run', '-d', '--init', '--name', 'al1', '--restart', 'always', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['run', '-d', '--init', '--name', 'no1', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['stop', 'us2']), d);
    const pid = ok(await d.docker(['inspect', '--format', '{{.State.Pid}}', 'us1']), d).trim();
    await d.restart(); // SIGTERM without live-restore: hakod stops every container on its way out
    const stateOf = async (n: string) => ok(await d.docker(['inspect', '--format', '{{.State.Status}}', n]), d).trim();
    await eventually(async () => ((await stateOf('us1')) === 'running' && (await stateOf('al1')) === 'running') || undefined, 'us1 and al1 running again');
    assert.notEqual(ok(await d.docker(['inspect', '--format', '{{.State.Pid}}', 'us1']), d).trim(), pid, 'us1 was not stopped by the shutdown');
    assert.equal(await stateOf('us2'), 'exited');
    assert.equal(await stateOf('no1'), 'exited');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.ExitCode}}', 'no1']), d), '143\n');
  });

  it('a container waiting out its restart backoff is restarting and running in docker inspect and ps; kill cancels the restart', async () => {
    ok(await d.docker(['run', '-d', '--name', 'rb1', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3']), d);
    // The backoff doubles (100 ms, 200 ms … 1.6 s): a poll soon finds it between two runs.
    await eventually(async () => {
      const out = ok(await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.State.Restarting}} {{.State.Pid}} {{.State.ExitCode}}', 'rb1']), d);
      return out === 'restarting true true 0 3\n' || undefined;
    }, 'rb1 shown restarting', 15_000);
    await eventually(async () => {
      const ps = ok(await d.docker(['ps', '--filter', 'name=rb1', '--format', '{{.State}}|{{.Status}}']), d);
      if (ps.startsWith('running|')) return undefined; // between two backoffs: up for an instant
      assert.match(ps, /^restarting\|Restarting \(3\) (Less than a second|\d+ seconds?) ago\n$/);
      return true;
    }, 'plain docker ps shows rb1 restarting', 15_000);
    // Its restart is pending, or it is up for an instant: both refuse a plain rm with docker's words.
    fails(await d.docker(['rm', 'rb1']), /cannot remove container "\/rb1": container is (restarting|running): stop the container before removing or force remove/, d);
    ok(await d.docker(['kill', 'rb1']), d);
    await eventually(async () => (ok(await d.docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}} {{.State.Restarting}}', 'rb1']), d) === 'exited false false\n') || undefined, 'rb1 exited for good');
    const count = ok(await d.docker(['inspect', '--format', '{{.RestartCount}}', 'rb1']), d);
    await new Promise((r) => setTimeout(r, 500)); // longer than the backoff it had reached
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.RestartCount}}', 'rb1']), d), count, 'the policy restarted a killed container');
    assert.equal(ok(await d.docker(['ps', '-q', '--filter', 'name=rb1']), d), '');
    ok(await d.docker(['rm', 'rb1']), d);
  });

  it('State.Health survives a hakod restart: kept as is for a stopped container, back to starting with its log for a running one', async () => {
    ok(await d.docker(['run', '-d', '--init', '--name', 'hp1', '--health-cmd', 'echo probe; exit 1', '--health-interval', '100ms', '--health-retries', '2', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['run', '-d', '--init', '--name', 'hp2', '--health-cmd', 'false', '--health-interval', '300ms', '--health-retries', '1', 'busybox', 'sleep', '300']), d);
    const health = async (n: string) => JSON.parse(ok(await d.docker(['inspect', '--format', '{{json .State.Health}}', n]), d)) as
      { Status: string; FailingStreak: number; Log: Array<{ Start: string; ExitCode: number; Output: string }> };
    await eventually(async () => ((await health('hp1')).Status === 'unhealthy' && (await health('hp2')).Log.length >= 2) || undefined, 'hp1 unhealthy, hp2 probed twice');
    ok(await d.docker(['stop', 'hp1']), d);
    const stopped = await health('hp1');
    assert.equal(stopped.Log.at(-1)?.Output, 'probe\n');
    const before = await health('hp2');
    await d.kill9(); // hp2 lives on under conmon and is adopted
    await d.restart();
    assert.deepEqual(await health('hp1'), stopped);
    const adopted = await health('hp2');
    // docker's initHealthMonitor on restore: starting, no streak, the log kept.
    assert.ok(adopted.Log.some((r) => before.Log.some((b) => b.Start === r.Start)), `the log of hp2 was lost: ${JSON.stringify(adopted)}`);
    await eventually(async () => ((await health('hp2')).Status === 'unhealthy') || undefined, 'hp2 checked again after the restart');
    ok(await d.docker(['rm', '-f', 'hp1', 'hp2']), d);
  });

  it('an image\'s HEALTHCHECK runs: starting, unhealthy, healthy once the file exists; --no-healthcheck disables it', async () => {
    const ctx = context('hc', ['FROM busybox', 'HEALTHCHECK --interval=100ms --retries=2 CMD test -f /ok || exit 1', 'CMD ["sleep", "300"]']);
    ok(await d.hako(['build', '-q', '-t', 'hc:1', ctx], { timeoutMs: 60_000 }), d);
    assert.equal(ok(await d.docker(['image', 'inspect', '--format', '{{json .Config.Healthcheck}}', 'hc:1']), d),
      '{"Test":["CMD-SHELL","test -f /ok || exit 1"],"Interval":100000000,"Retries":2}\n');
    const since = unixNow();
    // A start period keeps it `starting` long enough to see; the image's test, interval and retries stay.
    ok(await d.docker(['run', '-d', '--name', 'hc1', '--health-start-period', '1s', 'hc:1']), d);
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.Health.Status}}', 'hc1']), d), 'starting\n');
    assert.match(ok(await d.docker(['ps', '--filter', 'name=hc1', '--format', '{{.Status}}']), d), /^Up .* \(health: starting\)\n$/);
    await awaitEvent(d, ['--since', since, '--filter', 'container=hc1', '--filter', 'event=health_status', '--format', '{{.Action}}'], /^health_status: unhealthy$/);
    ok(await d.docker(['exec', 'hc1', 'touch', '/ok']), d);
    await awaitEvent(d, ['--since', since, '--filter', 'container=hc1', '--filter', 'event=health_status', '--format', '{{.Action}}'], /^health_status: healthy$/);
    const all = ok(await d.docker(['events', '--since', since, '--until', unixNow(), '--filter', 'container=hc1', '--filter', 'event=health_status', '--format', '{{.Action}}']), d);
    assert.equal(all, 'health_status: unhealthy\nhealth_status: healthy\n');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.Health.Status}} {{.State.Health.FailingStreak}}', 'hc1']), d), 'healthy 0\n');

    ok(await d.hako(['run', '-d', '--name', 'hc2', '--no-healthcheck', 'hc:1']), d);
    assert.equal(ok(await d.docker(['inspect', '--format', '{{json .Config.Healthcheck.Test}} {{if .State.Health}}checked{{else}}unchecked{{end}}', 'hc2']), d), '["NONE"] unchecked\n');
    assert.match(ok(await d.docker(['ps', '--filter', 'name=hc2', '--format', '{{.Status}}']), d), /^Up [^(]*\n$/);
    ok(await d.docker(['rm', '-f', 'hc1', 'hc2']), d);
  });

  it('stop sends the image\'s STOPSIGNAL or --stop-signal, through docker and hako', async () => {
    // sh as PID 1 handles USR1 (its trap) and ignores SIGTERM (no handler).
    const trapUsr1 = "trap 'exit 0' USR1; while :; do sleep 0.05; done";
    const ctx = context('sig', ['FROM busybox', 'STOPSIGNAL SIGUSR1', `CMD ["sh", "-c", "${trapUsr1}"]`]);
    ok(await d.docker(['build', '-q', '-t', 'sig:1', ctx], classic), d);
    assert.equal(ok(await d.docker(['image', 'inspect', '--format', '{{.Config.StopSignal}}', 'sig:1']), d), 'SIGUSR1\n');
    ok(await d.docker(['run', '-d', '--name', 's1', 'sig:1']), d);
    ok(await d.hako(['run', '-d', '--name', 's2', 'sig:1']), d);
    ok(await d.docker(['run', '-d', '--name', 's3', '--stop-signal', 'USR1', 'busybox', 'sh', '-c', trapUsr1]), d);
    ok(await d.hako(['run', '-d', '--name', 's4', '--stop-signal', 'SIGUSR1', 'busybox', 'sh', '-c', trapUsr1]), d);
    // --stop-signal overrides the image's: SIGTERM is ignored, so the timeout's SIGKILL ends it.
    ok(await d.hako(['run', '-d', '--name', 's5', '--stop-signal', 'SIGTERM', '--stop-timeout', '1', 'sig:1']), d);
    const t0 = Date.now();
    const stops = await Promise.all([
      d.docker(['stop', 's1']), d.hako(['stop', 's2']), d.docker(['stop', 's3']), d.hako(['stop', 's4']),
    ]);
    for (const r of stops) ok(r, d);
    assert.ok(Date.now() - t0 < 5000, 'a stop signal was not delivered: the stops waited for their timeout');
    for (const n of ['s1', 's2', 's3', 's4']) {
      assert.equal(ok(await d.docker(['inspect', '--format', '{{.Name}} {{.State.ExitCode}} {{.Config.StopSignal}}', n]), d), `/${n} 0 ${n === 's3' ? 'USR1' : 'SIGUSR1'}\n`);
    }
    const k0 = Date.now();
    ok(await d.docker(['stop', 's5']), d);
    assert.ok(Date.now() - k0 >= 900, 's5 ended before its stop timeout');
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.ExitCode}} {{.Config.StopSignal}}', 's5']), d), '137 SIGTERM\n');
    ok(await d.docker(['rm', 's1', 's2', 's3', 's4', 's5']), d);
  });

  it('a shell-form CMD swallows SIGTERM and is killed after the timeout; with --init the same image stops at once', async () => {
    const ctx = context('shellform', ['FROM busybox', 'CMD while :; do sleep 0.05; done']);
    ok(await d.docker(['build', '-q', '-t', 'shellform:1', ctx], classic), d);
    assert.equal(ok(await d.docker(['image', 'inspect', '--format', '{{json .Config.Cmd}}', 'shellform:1']), d), '["/bin/sh","-c","while :; do sleep 0.05; done"]\n');
    ok(await d.docker(['run', '-d', '--name', 'sf1', '--stop-timeout', '1', 'shellform:1']), d);
    ok(await d.hako(['run', '-d', '--name', 'sf2', '--init', 'shellform:1']), d);
    const t0 = Date.now();
    ok(await d.docker(['stop', 'sf1']), d);
    assert.ok(Date.now() - t0 >= 900, 'sf1 ended before its stop timeout');
    const t1 = Date.now();
    ok(await d.hako(['stop', 'sf2']), d);
    assert.ok(Date.now() - t1 < 5000, 'tini did not pass SIGTERM on');
    // sh is no longer PID 1 under tini: SIGTERM's default action ends it, and tini exits 128+15.
    assert.equal(ok(await d.docker(['inspect', '--format', '{{.State.ExitCode}}', 'sf1', 'sf2']), d), '137\n143\n');
    ok(await d.docker(['rm', 'sf1', 'sf2']), d);
  });
});
