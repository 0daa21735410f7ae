import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ContentStore, sha256Of } from '../../../src/storage/index.js';
import { InvalidArgument, NotFound } from '../../../src/errdefs/index.js';

async function withStore(fn: (store: ContentStore, root: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hako-content-'));
  try {
    await fn(new ContentStore(join(dir, 'content')), join(dir, 'content'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function filesIn(root: string): Promise<string[]> {
  return readdir(join(root, 'blobs', 'sha256'));
}

test('ingest stores a stream under its digest at blobs/sha256/<hex>', async () => {
  await withStore(async (store, root) => {
    const data = 'hello layers\n';
    const info = await store.ingest(Readable.from([Buffer.from('hello '), Buffer.from('layers\n')]));
    assert.deepEqual(info, { digest: sha256Of(data), size: data.length });
    assert.equal(store.path(info.digest), join(root, 'blobs', 'sha256', info.digest.slice(7)));
    assert.equal(await store.has(info.digest), true);
    assert.equal((await store.read(info.digest)).toString(), data);
    assert.equal(await text(await store.createReadStream(info.digest)), data);
    assert.deepEqual(await store.stat(info.digest), info);
    assert.deepEqual(await store.list(), [info]);
  });
});

test('ingest with a wrong expected digest throws naming both and leaves nothing behind', async () => {
  await withStore(async (store, root) => {
    const wrong = sha256Of('something else');
    await assert.rejects(store.put('content', { expectedDigest: wrong }), (err: unknown) =>
      err instanceof InvalidArgument && err.message.includes(wrong) && err.message.includes(sha256Of('content')));
    assert.deepEqual(await filesIn(root), []);
    assert.equal(await store.has(sha256Of('content')), false);
  });
});

test('ingest with a wrong expected size throws and leaves nothing behind', async () => {
  await withStore(async (store, root) => {
    await assert.rejects(store.put('12345', { expectedSize: 4 }), InvalidArgument);
    await assert.rejects(store.put('12345', { expectedSize: 6 }), /expected 6 bytes, got 5/);
    assert.deepEqual(await filesIn(root), []);
  });
});

test('ingest of a stream that fails midway leaves nothing behind', async () => {
  await withStore(async (store, root) => {
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    }
    await assert.rejects(store.ingest(Readable.from(broken())), /connection reset/);
    assert.deepEqual(await filesIn(root), []);
  });
});

test('an aborted ingest leaves nothing behind', async () => {
  await withStore(async (store, root) => {
    const ac = new AbortController();
    async function* slow() {
      yield Buffer.from('a');
      ac.abort();
      await new Promise((r) => setTimeout(r, 10));
      yield Buffer.from('b');
    }
    await assert.rejects(store.ingest(Readable.from(slow()), { signal: ac.signal }), { name: 'AbortError' });
    assert.deepEqual(await filesIn(root), []);
  });
});

test('a blob that is absent is NotFound for read, stat, stream and delete', async () => {
  await withStore(async (store) => {
    const absent = sha256Of('absent');
    await assert.rejects(store.read(absent), NotFound);
    await assert.rejects(store.stat(absent), NotFound);
    await assert.rejects(store.createReadStream(absent), NotFound);
    await assert.rejects(store.delete(absent), NotFound);
    assert.equal(await store.has(absent), false);
  });
});

test('delete removes a blob', async () => {
  await withStore(async (store) => {
    const { digest } = await store.put('x');
    await store.delete(digest);
    assert.equal(await store.has(digest), false);
    assert.deepEqual(await store.list(), []);
  });
});

test('malformed digests are refused before they touch a path', async () => {
  await withStore(async (store) => {
    assert.throws(() => store.path('sha256:../../../etc/passwd'), InvalidArgument);
    await assert.rejects(store.read('sha256:../../../etc/passwd'), InvalidArgument);
    await assert.rejects(store.has('../x'), InvalidArgument);
    await assert.rejects(store.put('x', { expectedDigest: 'sha256:zz' }), InvalidArgument);
  });
});

test('sweep removes interrupted ingests and the blobs nothing uses, and keeps the rest', async () => {
  await withStore(async (store, root) => {
    const kept = await store.put('config of an image');
    const orphan = await store.put('a layer whose image never got recorded');
    await writeFile(join(root, 'blobs', 'sha256', '.ingest-0123456789abcdef'), 'half a download');
    await writeFile(join(root, 'blobs', 'sha256', 'not-a-digest'), 'someone else\'s file');
    const removed = await store.sweep((digest) => digest === kept.digest);
    assert.deepEqual(removed, [orphan]);
    assert.deepEqual((await filesIn(root)).sort(), [kept.digest.slice(7), 'not-a-digest'].sort());
    assert.equal((await store.read(kept.digest)).toString(), 'config of an image');
  });
});

test('sweep of a store never written to removes nothing', async () => {
  await withStore(async (store) => {
    assert.deepEqual(await store.sweep(() => false), []);
  });
});
