/**
 * docker cp's engine side (PUT/GET/HEAD /containers/{id}/archive): noOverwriteDirNonDir, and the
 * freeze of a running container for the length of a copy (CVE-2018-15664).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { engineForFile, collect } from '../../support/engine.js';

const t = engineForFile();

/** What runc itself says of the container: 'running', 'paused', 'stopped' … */
function runcStatus(id: string): string {
  const out = execFileSync('runc', ['--root', join(t.execRoot, 'runc'), 'state', id]).toString();
  return (JSON.parse(out) as { status: string }).status;
}

type Entry = { name: string; type?: 'file' | 'directory'; body?: string; uid?: number; gid?: number };

function tarOf(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const e of entries) {
    const owner = { uid: e.uid ?? 0, gid: e.gid ?? 0 };
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mode: 0o755, ...owner });
    else pack.entry({ name: e.name, mode: 0o644, ...owner }, e.body ?? '');
  }
  pack.finalize();
  const body = new PassThrough(); // a node Readable, as an HTTP request body is
  pack.pipe(body);
  return body;
}

async function execOut(id: string, cmd: string[]): Promise<string> {
  const execId = (await t.engine.exec.create(id, { Cmd: cmd, AttachStdout: true, AttachStderr: true })).Id;
  const session = await t.engine.exec.start(String(execId), {});
  return (await collect(session!.output)).stdout;
}

async function runningBusybox(cmd = 'mkdir -p /tmp/d/sub && echo old > /tmp/d/file && sleep 300'): Promise<string> {
  const { Id } = await t.engine.containers.create({ Image: 'busybox', Cmd: ['sh', '-c', cmd] }, {});
  await t.engine.containers.start(Id);
  // The set-up command has run once /tmp/d/file exists.
  for (let i = 0; i < 100; i++) {
    try {
      await t.engine.containers.statPath(Id, '/tmp/d/file');
      return Id;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('the container never made /tmp/d/file');
}

test('with noOverwriteDirNonDir a copy may not replace a directory by a file, nor a file by a directory', async () => {
  const c = t.engine.containers;
  const id = await runningBusybox();
  await assert.rejects(
    c.putArchive(id, '/tmp/d', tarOf([{ name: 'sub', body: 'a file now' }]), { noOverwriteDirNonDir: true }),
    { message: 'cannot overwrite directory "/tmp/d/sub" with non-directory "/tmp/d"' },
  );
  await assert.rejects(
    c.putArchive(id, '/tmp/d/', tarOf([{ name: 'file', type: 'directory' }]), { noOverwriteDirNonDir: true }),
    { message: 'cannot overwrite non-directory "/tmp/d/file" with directory "/tmp/d"' },
  );
  assert.equal(await execOut(id, ['sh', '-c', 'test -d /tmp/d/sub && cat /tmp/d/file']), 'old\n');
  // Files over files and directories over directories are still fine.
  await c.putArchive(id, '/tmp/d', tarOf([{ name: 'sub', type: 'directory' }, { name: 'sub/x', body: 'x\n' }, { name: 'file', body: 'new\n' }]), { noOverwriteDirNonDir: true });
  assert.equal(await execOut(id, ['cat', '/tmp/d/file', '/tmp/d/sub/x']), 'new\nx\n');
  // Without the flag (docker's API default) the entry replaces what was there.
  await c.putArchive(id, '/tmp/d', tarOf([{ name: 'sub', body: 'now a file\n' }]), {});
  assert.equal(await execOut(id, ['cat', '/tmp/d/sub']), 'now a file\n');
});

test('a copy into a running container freezes it while the tar is read, and it runs again after', async () => {
  const c = t.engine.containers;
  const id = await runningBusybox();
  assert.equal(runcStatus(id), 'running');
  const body = new PassThrough();
  const pack = tar.pack();
  pack.pipe(body);
  const copying = c.putArchive(id, '/tmp', body, { noOverwriteDirNonDir: true });
  pack.entry({ name: 'first.txt' }, 'one\n');
  // The copy has started: the first entry is on disk (visible from the host side) …
  for (let i = 0; i < 100 && !(await c.statPath(id, '/tmp/first.txt').then(() => true, () => false)); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  // … and meanwhile the container is frozen, though the API still calls it running.
  assert.equal(runcStatus(id), 'paused');
  const state = (await c.inspect(id)).State as { Running: boolean; Paused: boolean; Status: string };
  assert.deepEqual([state.Status, state.Running, state.Paused], ['running', true, false]);
  pack.entry({ name: 'second.txt' }, 'two\n');
  pack.finalize();
  await copying;
  assert.equal(runcStatus(id), 'running');
  assert.equal(await execOut(id, ['cat', '/tmp/first.txt', '/tmp/second.txt']), 'one\ntwo\n');
});

test('a copy out of a running container keeps it frozen until the tar has been read', async () => {
  const c = t.engine.containers;
  const id = await runningBusybox();
  const { tar: out } = await c.getArchive(id, '/tmp/d/file');
  assert.equal(runcStatus(id), 'paused');
  const extract = tar.extract();
  const names: string[] = [];
  extract.on('entry', (h, stream, next) => { names.push(h.name); stream.resume(); stream.on('end', next); });
  out.pipe(extract);
  await new Promise<void>((resolve) => extract.on('finish', () => resolve()));
  assert.deepEqual(names, ['file']);
  // The thaw runs after the stream's close, in the container's lock: the next copy waits for it.
  await c.statPath(id, '/tmp/d');
  assert.equal(runcStatus(id), 'running');
});

test('a copy into a paused container leaves it paused, and unpause thaws it', async () => {
  const c = t.engine.containers;
  const id = await runningBusybox();
  await c.pause(id);
  await c.putArchive(id, '/tmp', tarOf([{ name: 'while-paused.txt', body: 'p\n' }]), { noOverwriteDirNonDir: true });
  assert.equal(runcStatus(id), 'paused');
  assert.equal(((await c.inspect(id)).State as { Paused: boolean }).Paused, true);
  await c.unpause(id);
  assert.equal(runcStatus(id), 'running');
  assert.equal(await execOut(id, ['cat', '/tmp/while-paused.txt']), 'p\n');
});

test('a failed copy into a running container still thaws it', async () => {
  const c = t.engine.containers;
  const id = await runningBusybox();
  await assert.rejects(c.putArchive(id, '/tmp/d/file', tarOf([{ name: 'x', body: 'x' }]), {}), /extraction point is not a directory/);
  await assert.rejects(c.getArchive(id, '/no/such/path'), /Could not find the file/);
  assert.equal(runcStatus(id), 'running');
});

test('copyUIDGID (cp -a) gives every entry the container user\'s owner; without it the tar\'s owners stay', async () => {
  const c = t.engine.containers;
  const { Id: id } = await c.create({ Image: 'busybox', User: 'app', Cmd: ['sleep', '300'] }, {});
  await c.start(id);
  const owned = tarOf([{ name: 'owned', type: 'directory' }, { name: 'owned/f', body: 'f\n', uid: 7, gid: 8 }]);
  await c.putArchive(id, '/tmp', owned, { noOverwriteDirNonDir: true, copyUIDGID: true });
  await c.putArchive(id, '/tmp', tarOf([{ name: 'plain', body: 'p\n', uid: 7, gid: 8 }]), { noOverwriteDirNonDir: true });
  assert.equal(await execOut(id, ['stat', '-c', '%n %u:%g', '/tmp/owned', '/tmp/owned/f', '/tmp/plain']), '/tmp/owned 1001:1001\n/tmp/owned/f 1001:1001\n/tmp/plain 7:8\n');
});
