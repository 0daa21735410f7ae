/**
 * `--ipc` modes and /dev/shm as docker has them (moby setupIPCDirs): a shareable container's
 * /dev/shm is a host tmpfs that `--ipc container:x` binds, a private one refuses to be a donor,
 * `none` has no /dev/shm, `host` binds the host's; the host mount is gone after stop and rm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { engineForFile, collect, runToExit } from '../../support/engine.js';

const t = engineForFile();

type Json = Record<string, unknown>;

const run = (body: Json) => runToExit(t, body);

async function execIn(id: string, cmd: string): Promise<string> {
  const exec = await t.engine.exec.create(id, { Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true });
  const out = await collect((await t.engine.exec.start(exec.Id, {}))!.output);
  assert.equal(out.stderr, '');
  return out.stdout;
}

/** Mount points of this (the host's) mount namespace. */
function hostMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter(Boolean);
}

async function shmPathOf(id: string): Promise<string> {
  return join(dirname(String((await t.engine.containers.inspect(id)).HostnamePath)), 'mounts', 'shm');
}

test('a file in a shareable container\'s /dev/shm is seen by a container started with --ipc container:x, and back', async () => {
  const c = t.engine.containers;
  const { Id: donor } = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'], HostConfig: { IpcMode: 'shareable', ShmSize: 8 << 20 } }, { name: 'ipcdonor' });
  try {
    await c.start(donor);
    const shm = await shmPathOf(donor);
    assert.ok(hostMountPoints().includes(shm), `${shm} is mounted on the host while the donor runs`);
    await execIn(donor, 'echo from-donor > /dev/shm/greeting');
    const donorNs = (await execIn(donor, 'readlink /proc/self/ns/ipc')).trim();
    const r = await run({
      Cmd: ['sh', '-c', 'cat /dev/shm/greeting; readlink /proc/self/ns/ipc; grep " /dev/shm " /proc/mounts; echo from-joiner > /dev/shm/reply'],
      HostConfig: { IpcMode: 'container:ipcdonor' },
    });
    assert.equal(r.code, 0, r.stderr);
    const [greeting, ns, mount] = r.stdout.trim().split('\n');
    assert.equal(greeting, 'from-donor');
    assert.equal(ns, donorNs);
    assert.match(mount ?? '', /size=8192k/);
    assert.equal((await execIn(donor, 'cat /dev/shm/reply')).trim(), 'from-joiner');
    await c.stop(donor, { timeout: 0 });
    assert.ok(!hostMountPoints().includes(shm), `${shm} is unmounted when the donor stops`);
    await c.start(donor);
    assert.ok(hostMountPoints().includes(shm), 'mounted again at the next start');
    await c.remove(donor, { force: true });
    assert.ok(!hostMountPoints().some((m) => m.startsWith(dirname(dirname(shm)))), 'nothing of the container stays mounted after rm');
  } finally {
    await c.remove(donor, { force: true }).catch(() => undefined);
  }
});

test('a private container is refused as IPC donor with docker\'s message; a stopped one as not running', async () => {
  const c = t.engine.containers;
  const { Id: donor } = await c.create({ Image: 'busybox', Cmd: ['sleep', '60'] }, { name: 'ipcprivate' });
  try {
    await c.start(donor);
    const { Id: joiner } = await c.create({ Image: 'busybox', Cmd: ['true'], HostConfig: { IpcMode: 'container:ipcprivate' } }, {});
    // As docker: `container:<id>` is kept, so the link survives a rename of the donor.
    assert.equal(((await c.inspect(joiner)).HostConfig as Json).IpcMode, `container:${donor}`);
    await assert.rejects(c.start(joiner), (err: Error) => {
      assert.equal(err.message, `failed to join IPC namespace: container ${donor}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
      assert.equal((err as { status?: number }).status, 400);
      return true;
    });
    assert.equal(((await c.inspect(joiner)).State as Json).Running, false);
    await c.stop(donor, { timeout: 0 });
    await assert.rejects(c.start(joiner), new RegExp(`failed to join IPC namespace: container ${donor} is not running`));
    await c.remove(joiner, {});
  } finally {
    await c.remove(donor, { force: true });
  }
});

test('--ipc none has no /dev/shm; private keeps its own tmpfs', async () => {
  const none = await run({ Cmd: ['sh', '-c', '[ -e /dev/shm ] && echo has-shm || echo no-shm; grep -c " /dev/shm " /proc/mounts'], HostConfig: { IpcMode: 'none' } });
  assert.deepEqual(none.stdout.trim().split('\n'), ['no-shm', '0']);
  const priv = await run({ Cmd: ['sh', '-c', 'grep " /dev/shm " /proc/mounts'], HostConfig: { IpcMode: 'private' } });
  assert.match(priv.stdout, /^shm \/dev\/shm tmpfs .*size=65536k/);
});

test('--ipc host binds the host\'s /dev/shm', async () => {
  const name = `hako-ipc-test-${process.pid}`;
  writeFileSync(`/dev/shm/${name}`, 'from-host\n');
  try {
    const r = await run({ Cmd: ['cat', `/dev/shm/${name}`], HostConfig: { IpcMode: 'host' } });
    assert.equal(r.stdout, 'from-host\n', r.stderr);
  } finally {
    rmSync(`/dev/shm/${name}`, { force: true });
  }
});
