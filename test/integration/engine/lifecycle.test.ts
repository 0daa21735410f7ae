import { test } from 'node:test';
import assert from 'node:assert/strict';
import { engineForFile, collect, ALL_LOGS } from '../../support/engine.js';

const t = engineForFile();

test('a container runs, exits with its code, and keeps its stdout and stderr apart in the logs', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }, {});
  const waited = c.wait(Id, 'next-exit');
  await c.start(Id);
  assert.equal((await waited).StatusCode, 3);
  const info = await c.inspect(Id);
  assert.equal((info.State as { Status: string }).Status, 'exited');
  const { entries } = await c.logs(Id, ALL_LOGS);
  assert.deepEqual(await collect(entries), { stdout: 'out\n', stderr: 'err\n' });
});

test('attach before start sees every byte, stdin reaches the process', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', 'read x; echo got $x; echo bye >&2'], OpenStdin: true, StdinOnce: true, AttachStdin: true }, {});
  const session = await c.attach(Id, { stream: true, logs: false, stdin: true, stdout: true, stderr: true });
  const output = collect(session.output);
  await c.start(Id);
  session.input?.end('hello\n');
  assert.deepEqual(await output, { stdout: 'got hello\n', stderr: 'bye\n' });
  assert.equal((await c.wait(Id, 'not-running')).StatusCode, 0);
});

test('stop sends SIGTERM, then SIGKILL after the grace period', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', "trap '' TERM; while true; do sleep 0.1; done"] }, {});
  await c.start(Id);
  const t0 = Date.now();
  await c.stop(Id, { timeout: 1 });
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
  assert.equal((await c.wait(Id, 'not-running')).StatusCode, 137);
});

test('a missing executable fails start with 127 and leaves a created container', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['/nope'] }, {});
  await assert.rejects(c.start(Id), /nope/);
  const info = await c.inspect(Id);
  assert.equal((info.State as { ExitCode: number }).ExitCode, 127);
  await c.remove(Id, {});
});

test('exec runs in the container and reports its exit code', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'], Hostname: 'box1' }, {});
  await c.start(Id);
  const { Id: execId } = await t.engine.exec.create(Id, { Cmd: ['sh', '-c', 'hostname; exit 4'], AttachStdout: true, AttachStderr: true });
  const session = await t.engine.exec.start(execId, {});
  assert.ok(session);
  assert.deepEqual(await collect(session.output), { stdout: 'box1\n', stderr: '' });
  for (let i = 0; i < 50 && (await t.engine.exec.inspect(execId)).Running; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await t.engine.exec.inspect(execId)).ExitCode, 4);
  await c.remove(Id, { force: true });
  await assert.rejects(c.inspect(Id), /No such container/);
});

test('names are unique and a second create with the same name conflicts', async () => {
  const c = t.engine.containers;
  await c.create({ Image: 'busybox', Cmd: ['true'] }, { name: 'uniq' });
  await assert.rejects(c.create({ Image: 'busybox', Cmd: ['true'] }, { name: 'uniq' }), /is already in use/);
  await c.remove('uniq', {});
});

test('pause freezes and unpause thaws', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'] }, {});
  await c.start(Id);
  await c.pause(Id);
  assert.equal(((await c.inspect(Id)).State as { Status: string }).Status, 'paused');
  await c.unpause(Id);
  assert.equal(((await c.inspect(Id)).State as { Status: string }).Status, 'running');
  const top = await c.top(Id);
  assert.ok(top.Processes.some((p) => p.join(' ').includes('sleep 60')));
  await c.remove(Id, { force: true });
});

/** The mount options of the overlay mounted on `rootfs`, from /proc/self/mountinfo. */
async function overlayOptions(rootfs: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === rootfs);
  assert.ok(line, `nothing mounted on ${rootfs}`);
  return line.split(' - ')[1] ?? '';
}

test('an --rm container\'s rootfs skips the unmount sync (volatile); a kept one stays durable across starts', async () => {
  const c = t.engine.containers;
  const rootfsOf = async (id: string) => ((await c.inspect(id)).GraphDriver as { Data: { MergedDir: string } }).Data.MergedDir;
  const gone = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { AutoRemove: true } }, {});
  const kept = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'] }, {});
  try {
    await c.start(gone.Id);
    await c.start(kept.Id);
    assert.match(await overlayOptions(await rootfsOf(gone.Id)), /\bvolatile\b/);
    assert.doesNotMatch(await overlayOptions(await rootfsOf(kept.Id)), /\bvolatile\b/);
    await c.stop(kept.Id, { timeout: 0 });
    await c.start(kept.Id);
    assert.doesNotMatch(await overlayOptions(await rootfsOf(kept.Id)), /\bvolatile\b/);
  } finally {
    await c.remove(gone.Id, { force: true }).catch(() => undefined);
    await c.remove(kept.Id, { force: true });
  }
});

test('restart keeps an --rm container (its volatile rootfs mounts again); a stop then removes it', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { AutoRemove: true } }, {});
  await c.start(Id);
  await c.restart(Id, { timeout: 0 });
  assert.equal(((await c.inspect(Id)).State as { Status: string }).Status, 'running');
  const removed = c.wait(Id, 'removed');
  await c.stop(Id, { timeout: 0 });
  await removed;
  await assert.rejects(c.inspect(Id), /No such container/);
});

test('auto-remove deletes the container after it exits', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } }, {});
  const removed = c.wait(Id, 'removed');
  await c.start(Id);
  await removed;
  await assert.rejects(c.inspect(Id), /No such container/);
});
