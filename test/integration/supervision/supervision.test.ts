/**
 * Health checks, restart policies and graceful stops with real timing (short intervals), on a
 * real engine in a temp root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile } from '../../support/engine.js';
import type { EngineEvent, Json } from '../../../src/engine/index.js';

const t = engineForFile();

const MS = 1_000_000; // nanoseconds

/** Records the events of one container from now on; `until` resolves at the first match. */
function recorder(id: () => string) {
  const seen: EngineEvent[] = [];
  const waiters: Array<{ pred: (e: EngineEvent) => boolean; resolve: (e: EngineEvent) => void }> = [];
  const unsubscribe = t.engine.events.subscribe((e) => {
    if (e.Actor.ID !== id()) return;
    seen.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  return {
    seen,
    actions: () => seen.map((e) => e.Action),
    /** The next event (from now on, or already seen when `past`) that matches; fails after timeoutMs. */
    until(pred: (e: EngineEvent) => boolean, timeoutMs = 15_000, past = true): Promise<EngineEvent> {
      const hit = past ? seen.find(pred) : undefined;
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; saw: ${seen.map((e) => e.Action).join(', ')}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      });
    },
    count: (action: string) => seen.filter((e) => e.Action === action).length,
    stop: unsubscribe,
  };
}

async function createAndWatch(body: Json) {
  let id = '';
  const rec = recorder(() => id);
  ({ Id: id } = await t.engine.containers.create({ Image: 'busybox', ...body }, {}));
  return { id, rec };
}

const update = (id: string, body: Json): Promise<unknown> =>
  (t.engine.containers as unknown as { update(ref: string, body: Json): Promise<unknown> }).update(id, body);

const state = async (id: string): Promise<Json & { Health?: { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> } }> =>
  (await t.engine.containers.inspect(id)).State as never;

test('a failing check turns the container unhealthy after exactly `retries` failures', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sleep', '60'],
    Healthcheck: { Test: ['CMD-SHELL', 'echo checking; exit 1'], Interval: 100 * MS, Timeout: 5000 * MS, Retries: 3 },
  });
  await t.engine.containers.start(id);
  assert.equal((await state(id)).Health?.Status, 'starting');
  await rec.until((e) => e.Action === 'health_status: unhealthy');
  // Each probe is an exec (as docker's): three probes ended before the status changed.
  const before = rec.seen.slice(0, rec.seen.findIndex((e) => e.Action === 'health_status: unhealthy'));
  assert.equal(before.filter((e) => e.Action === 'exec_die').length, 3);
  const s = await state(id);
  assert.equal(s.Health?.Status, 'unhealthy');
  assert.ok(s.Health!.FailingStreak >= 3);
  assert.equal(s.Health!.Log[0]?.ExitCode, 1);
  assert.equal(s.Health!.Log[0]?.Output, 'checking\n');
  const row = (await t.engine.containers.list({ filters: { health: ['unhealthy'] } })).find((r) => r.Id === id);
  assert.match(String(row?.Status), /^Up .* \(unhealthy\)$/);
  assert.equal((await t.engine.containers.list({ filters: { health: ['healthy'] } })).some((r) => r.Id === id), false);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('failures inside the start period do not count; a success makes it healthy', async () => {
  // The check passes once /tmp/ready exists, which the container makes after 0.8 s.
  const { id, rec } = await createAndWatch({
    Cmd: ['sh', '-c', 'sleep 0.8; touch /tmp/ready; exec sleep 60'],
    Healthcheck: { Test: ['CMD', 'test', '-f', '/tmp/ready'], Interval: 100 * MS, StartPeriod: 5000 * MS, StartInterval: 100 * MS, Retries: 1 },
  });
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'health_status: healthy');
  const failures = rec.seen.filter((e) => e.Action === 'exec_die' && e.Actor.Attributes.exitCode === '1').length;
  assert.ok(failures >= 2, `expected several failed probes in the start period, saw ${failures}`);
  assert.equal(rec.count('health_status: unhealthy'), 0, 'failures in the start period made it unhealthy');
  assert.equal((await state(id)).Health?.Status, 'healthy');
  const row = (await t.engine.containers.list({ filters: { health: ['healthy'] } })).find((r) => r.Id === id);
  assert.match(String(row?.Status), /\(healthy\)$/);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('a check that outlives its timeout is killed and counts as a failure', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sleep', '60'],
    Healthcheck: { Test: ['CMD', 'sleep', '30'], Interval: 100 * MS, Timeout: 200 * MS, Retries: 1 },
  });
  const started = Date.now();
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'health_status: unhealthy', 10_000);
  assert.ok(Date.now() - started < 5000, 'the timed-out probe was not cut short');
  const log = (await state(id)).Health!.Log;
  assert.equal(log[0]?.ExitCode, -1);
  assert.equal(log[0]?.Output, 'Health check exceeded timeout (200ms)');
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('--health-on-failure restart restarts an unhealthy container and counts the restart', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sleep', '60'],
    Labels: { 'io.hako.health.on-failure': 'restart' },
    StopTimeout: 1,
    Healthcheck: { Test: ['CMD', 'false'], Interval: 100 * MS, Retries: 1 },
  });
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'health_status: unhealthy');
  await rec.until((e) => e.Action === 'start' && rec.count('start') === 2, 15_000);
  const after = rec.actions().slice(rec.actions().indexOf('health_status: unhealthy'));
  // unhealthy → stop signal (then SIGKILL: sleep as PID 1 ignores SIGTERM) → die → stop → start again
  const steps = after.filter((a) => ['kill', 'die', 'stop', 'start'].includes(a)).filter((a, i, all) => a !== all[i - 1]);
  assert.deepEqual(steps.slice(0, 4), ['kill', 'die', 'stop', 'start']);
  const info = await t.engine.containers.inspect(id);
  assert.equal(info.RestartCount, 1);
  assert.equal((info.State as Json).Running, true);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('--health-on-failure stop leaves an unhealthy container stopped, whatever its policy', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sleep', '60'],
    Labels: { 'io.hako.health.on-failure': 'stop' },
    StopTimeout: 1,
    HostConfig: { RestartPolicy: { Name: 'always' } },
    Healthcheck: { Test: ['CMD', 'false'], Interval: 100 * MS, Retries: 1 },
  });
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'stop');
  const s = await state(id);
  assert.equal(s.Running, false);
  assert.equal(s.Restarting, false);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('on-failure:2 restarts a failing container twice, then gives up with RestartCount 2', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sh', '-c', 'exit 3'],
    HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } },
  });
  const t0 = Date.now();
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'die' && rec.count('die') === 3);
  // The backoff is 100 ms then 200 ms; a third restart would come 400 ms after the last exit.
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(rec.count('start'), 3);
  assert.ok(Date.now() - t0 >= 300, 'restarts came without the backoff');
  const info = await t.engine.containers.inspect(id);
  assert.equal(info.RestartCount, 2);
  assert.equal((info.State as Json).Status, 'exited');
  assert.equal((info.State as Json).ExitCode, 3);
  assert.deepEqual(rec.seen.filter((e) => e.Action === 'die').map((e) => e.Actor.Attributes.exitCode), ['3', '3', '3']);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('a user stop is never undone by an always policy; a user start resets RestartCount', async () => {
  const { id, rec } = await createAndWatch({
    Cmd: ['sh', '-c', 'sleep 0.2'],
    HostConfig: { RestartPolicy: { Name: 'always' } },
  });
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'start' && rec.count('start') === 2); // exited 0, came back
  assert.ok(Number((await t.engine.containers.inspect(id)).RestartCount) >= 1);
  await t.engine.containers.stop(id, { timeout: 1 });
  const starts = rec.count('start');
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(rec.count('start'), starts, 'the policy started a container the user stopped');
  const s = await state(id);
  assert.equal(s.Running, false);
  assert.equal(s.Restarting, false);
  assert.equal(s.Status, 'exited');
  await t.engine.containers.start(id);
  assert.equal((await t.engine.containers.inspect(id)).RestartCount, 0);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('update changes the restart policy of an existing container', async () => {
  const { id, rec } = await createAndWatch({ Cmd: ['sh', '-c', 'exit 1'] });
  await update(id, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 1 }, CpuShares: 0, Memory: 0 });
  const hc = (await t.engine.containers.inspect(id)).HostConfig as Json;
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 1 });
  assert.ok(rec.actions().includes('update'));
  await t.engine.containers.start(id);
  await rec.until((e) => e.Action === 'die' && rec.count('die') === 2);
  await assert.rejects(update(id, { RestartPolicy: { Name: 'sometimes' } }), /unknown policy 'sometimes'/);
  rec.stop();
  await t.engine.containers.remove(id, { force: true });
});

test('bad restart policies and health checks are refused at create with docker\'s words', async () => {
  const c = t.engine.containers;
  const count = (await c.list({ all: true })).length;
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: { Name: 'sometimes' } } }, {}),
    { message: "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'" });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } }, {}),
    { message: 'invalid restart policy: maximum retry count cannot be negative' });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } }, {}),
    { message: "invalid restart policy: maximum retry count can only be used with 'on-failure'" });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }, {}),
    { message: "can't create 'AutoRemove' container with restart policy" });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], Interval: 1000 } }, {}),
    { message: 'Interval in Healthcheck cannot be less than 1ms' });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } }, {}),
    { message: 'Retries in Healthcheck cannot be negative' });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'], Labels: { 'io.hako.health.on-failure': 'explode' } }, {}),
    /invalid health-on-failure action "explode"/);
  assert.equal((await c.list({ all: true })).length, count, 'a refused create left a container behind');
});

test('stop: a shell-form CMD that ignores SIGTERM is killed after the timeout; a process that handles it exits 0', async () => {
  const c = t.engine.containers;
  // sh as PID 1 without a trap: the kernel drops SIGTERM for it.
  const { Id: deaf } = await c.create({ Image: 'busybox', Cmd: ['/bin/sh', '-c', 'sleep 60; true'], StopTimeout: 1 }, {});
  const { Id: polite } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.05; done"] }, {});
  await Promise.all([c.start(deaf), c.start(polite)]);
  const t0 = Date.now();
  await Promise.all([
    c.stop(deaf, {}),
    (async () => {
      const p0 = Date.now();
      await c.stop(polite, { timeout: 10 });
      assert.ok(Date.now() - p0 < 3000, 'the SIGTERM handler did not end it quickly');
    })(),
  ]);
  assert.ok(Date.now() - t0 >= 900, 'the deaf container was killed before its stop timeout');
  assert.equal((await state(deaf)).ExitCode, 137);
  assert.equal((await state(polite)).ExitCode, 0);
  await c.remove(deaf, { force: true });
  await c.remove(polite, { force: true });
});

test('--init reaps zombies that PID 1 would leave', async () => {
  const c = t.engine.containers;
  // The subshell's sleep is orphaned, reparented to PID 1, and dies after 0.1 s.
  const cmd = ['sh', '-c', '(sleep 0.1 &); exec sleep 60'];
  const { Id: bare } = await c.create({ Image: 'busybox', Cmd: cmd }, {});
  const { Id: init } = await c.create({ Image: 'busybox', Cmd: cmd, HostConfig: { Init: true } }, {});
  await Promise.all([c.start(bare), c.start(init)]);
  const zombies = async (id: string): Promise<number> => {
    const { Id: execId } = await t.engine.exec.create(id, { Cmd: ['ps', '-o', 'stat'], AttachStdout: true });
    const session = await t.engine.exec.start(execId, {});
    let out = '';
    for await (const chunk of session!.output) out += chunk.data.toString();
    return out.split('\n').filter((l) => l.trim().startsWith('Z')).length;
  };
  const deadline = Date.now() + 5000;
  while ((await zombies(bare)) === 0) {
    assert.ok(Date.now() < deadline, 'no zombie appeared without --init (the test cannot tell)');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await zombies(init), 0, 'tini left a zombie');
  await c.remove(bare, { force: true });
  await c.remove(init, { force: true });
});

test('a container waiting out its restart backoff is running and restarting to the API, as docker\'s SetRestarting shows it', async () => {
  const c = t.engine.containers;
  const { id, rec } = await createAndWatch({ Cmd: ['sh', '-c', 'exit 3'], HostConfig: { RestartPolicy: { Name: 'on-failure' } } });
  await c.start(id);
  // The third exit waits 400 ms (100, 200, 400): `die` is published once the restart is scheduled.
  await rec.until((e) => e.Action === 'die' && rec.count('die') === 3);
  const s = await state(id);
  assert.deepEqual([s.Status, s.Running, s.Restarting, s.Pid, s.ExitCode], ['restarting', true, true, 0, 3]);
  const row = (await c.list({})).find((r) => r.Id === id);
  assert.equal(row?.State, 'restarting');
  assert.match(String(row?.Status), /^Restarting \(3\) (Less than a second|1 second) ago$/);
  await assert.rejects(c.remove(id, {}), { message: `cannot remove container "/${String((await c.inspect(id)).Name).slice(1)}": container is restarting: stop the container before removing or force remove` });
  await assert.rejects(t.engine.exec.create(id, { Cmd: ['true'] }), { message: `Container ${id} is restarting, wait until the container is running` });
  // A user's stop cancels the pending restart: nothing starts it when the backoff ends.
  await c.stop(id, {});
  const after = await state(id);
  assert.deepEqual([after.Status, after.Running, after.Restarting], ['exited', false, false]);
  const starts = rec.count('start');
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(rec.count('start'), starts, 'the policy restarted a container the user stopped while it waited');
  rec.stop();
  await c.remove(id, {});
});

test('during a restart backoff start answers 304 and wait blocks until the next exit, or until the restart is called off', async () => {
  const c = t.engine.containers;
  // Fails twice, then succeeds; the second backoff (200 ms) leaves time to act in it.
  const { id, rec } = await createAndWatch({
    Cmd: ['sh', '-c', 'n=$(cat /n 2>/dev/null || echo 0); echo $((n+1)) > /n; [ "$n" -ge 2 ] || exit 3'],
    HostConfig: { RestartPolicy: { Name: 'on-failure' } },
  });
  await c.start(id);
  await rec.until((e) => e.Action === 'die' && rec.count('die') === 2);
  assert.equal((await state(id)).Restarting, true);
  await assert.rejects(c.start(id), (err: { status?: number }) => err.status === 304);
  const order: string[] = [];
  const waited = c.wait(id, 'not-running').then((r) => { order.push('wait'); return r; });
  await rec.until((e) => e.Action === 'start' && rec.count('start') === 3).then(() => order.push('restarted'));
  assert.equal((await waited).StatusCode, 0);
  assert.deepEqual(order, ['restarted', 'wait']);
  rec.stop();
  await c.remove(id, {});

  // Always failing: a user's stop during the backoff (the third: 400 ms) ends the wait with the
  // last exit code.
  const failing = await createAndWatch({ Cmd: ['sh', '-c', 'exit 4'], HostConfig: { RestartPolicy: { Name: 'always' } } });
  await c.start(failing.id);
  await failing.rec.until((e) => e.Action === 'die' && failing.rec.count('die') === 3);
  const waiting = c.wait(failing.id, 'not-running');
  await c.stop(failing.id, {});
  assert.equal((await waiting).StatusCode, 4);
  assert.equal((await state(failing.id)).Restarting, false);
  failing.rec.stop();
  await c.remove(failing.id, {});
});
