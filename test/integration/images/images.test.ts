import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { Conflict, InvalidArgument, NotFound } from '../../../src/errdefs/index.js';
import { busyboxTarBytes } from '../../support/busybox.js';
import { makeEnv, type ImageEnv } from './env.js';

async function withEnv(fn: (env: ImageEnv) => Promise<void>): Promise<void> {
  const env = makeEnv();
  try {
    await fn(env);
  } finally {
    env.close();
  }
}

async function importBusybox(env: ImageEnv, repo = 'busybox', changes: string[] = []): Promise<string> {
  const { Id } = await env.images.importRootfs(Readable.from([busyboxTarBytes()]), { repo, changes });
  return Id;
}

test('import turns a rootfs tarball into a one-layer image with the --change settings', () => withEnv(async (env) => {
  const id = await importBusybox(env, 'busybox', ['CMD ["sh"]', 'ENV APP=1', 'WORKDIR /home/app', 'USER app', 'EXPOSE 8080', 'LABEL org.example=yes']);
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const img = await env.contract.inspect('busybox');
  assert.equal(img.Id, id);
  assert.deepEqual(img.RepoTags, ['busybox:latest']);
  assert.deepEqual(img.RepoDigests, []);
  assert.equal(img.Parent, '');
  assert.equal(img.Comment, 'Imported from -');
  assert.equal(img.DockerVersion, '');
  assert.equal(img.Author, '');
  assert.equal(img.Architecture, 'amd64');
  assert.equal(img.Os, 'linux');
  assert.equal(typeof img.Created, 'string');
  const config = img.Config as Record<string, unknown>;
  assert.deepEqual(config.Cmd, ['sh']);
  assert.deepEqual(config.Env, ['APP=1']);
  assert.equal(config.WorkingDir, '/home/app');
  assert.equal(config.User, 'app');
  assert.deepEqual(config.ExposedPorts, { '8080/tcp': {} });
  assert.deepEqual(config.Labels, { 'org.example': 'yes' });
  assert.equal(config.Entrypoint, null);
  const rootfs = img.RootFS as { Type: string; Layers: string[] };
  assert.equal(rootfs.Type, 'layers');
  assert.equal(rootfs.Layers.length, 1);
  assert.ok((img.Size as number) > 1_000_000, 'busybox is over a megabyte');
  const gd = img.GraphDriver as { Name: string; Data: Record<string, string> };
  assert.equal(gd.Name, 'overlay2');
  assert.match(gd.Data.UpperDir ?? '', /\/diff$/);
  assert.match((img.Metadata as { LastTagTime: string }).LastTagTime, /^\d{4}-/);

  const [summary] = await env.contract.list({});
  assert.deepEqual(summary, {
    Containers: 0, Created: Math.floor(Date.parse(img.Created as string) / 1000), Id: id, Labels: { 'org.example': 'yes' },
    ParentId: '', RepoDigests: [], RepoTags: ['busybox:latest'], SharedSize: -1, Size: img.Size,
  });

  const history = await env.contract.history('busybox');
  assert.equal(history.length, 1);
  assert.equal(history[0]?.Id, id);
  assert.equal(history[0]?.Comment, 'Imported from -');
  assert.deepEqual(history[0]?.Tags, ['busybox:latest']);
  assert.equal(history[0]?.Size, img.Size);
}));

test('a gzip\'ed rootfs imports to the same image content as the plain one', () => withEnv(async (env) => {
  const gz = Readable.from([busyboxTarBytes()]).pipe(createGzip());
  const { Id } = await env.images.importRootfs(gz, { repo: 'bbgz', message: 'zipped' });
  const img = await env.contract.inspect(Id);
  const plain = await env.contract.inspect(await importBusybox(env));
  assert.deepEqual((img.RootFS as { Layers: string[] }).Layers, (plain.RootFS as { Layers: string[] }).Layers);
  assert.equal(img.Comment, 'zipped');
}));

test('import refuses a bad change or name before storing anything', () => withEnv(async (env) => {
  await assert.rejects(env.images.importRootfs(Readable.from([busyboxTarBytes()]), { changes: ['RUN echo'] }), /run is not a valid change command/);
  await assert.rejects(env.images.importRootfs(Readable.from([busyboxTarBytes()]), { repo: 'Bad' }), InvalidArgument);
  assert.deepEqual(await env.leftovers(), { images: 0, blobs: [], layerDirs: [], temp: [] });
}));

test('images resolve by name, full id, short id and sha256: prefix', () => withEnv(async (env) => {
  const id = await importBusybox(env);
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', id, id.slice(7), id.slice(7, 19), id.slice(0, 15)]) {
    assert.equal(env.images.resolve(ref).id, id, ref);
  }
  assert.throws(() => env.images.resolve('busybox:nope'), (err: unknown) => err instanceof NotFound && err.message === 'No such image: busybox:nope');
  await assert.rejects(env.contract.inspect('nothing'), /^NotFound: No such image: nothing$/);
}));

test('tag adds a name, validates it, and rmi of one of several tags only untags', () => withEnv(async (env) => {
  const id = await importBusybox(env);
  await env.contract.tag('busybox', 'me/tools', 'v1');
  await env.contract.tag(id.slice(7, 19), 'localhost:5000/bb');
  assert.deepEqual((await env.contract.inspect(id)).RepoTags, ['busybox:latest', 'me/tools:v1', 'localhost:5000/bb:latest']);
  await assert.rejects(env.contract.tag('busybox', 'UPPER'), /must be lowercase/);
  await assert.rejects(env.contract.tag('busybox', 'x', 'bad tag'), /invalid reference format/);
  await assert.rejects(env.contract.tag('busybox', `x@sha256:${'a'.repeat(64)}`), /refusing to create a tag with a digest reference/);

  assert.deepEqual(await env.contract.remove('me/tools:v1', {}), [{ Untagged: 'me/tools:v1' }]);
  assert.deepEqual((await env.contract.inspect(id)).RepoTags, ['busybox:latest', 'localhost:5000/bb:latest']);

  // By id with names in several repositories: must be forced.
  await assert.rejects(env.contract.remove(id, {}), (err: unknown) => err instanceof Conflict
    && err.message === `conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);

  const out = await env.contract.remove(id, { force: true });
  assert.deepEqual(out.slice(0, 3), [{ Untagged: 'busybox:latest' }, { Untagged: 'localhost:5000/bb:latest' }, { Deleted: id }]);
  assert.equal(out.length, 4, 'the layer is deleted too');
  assert.deepEqual(await env.leftovers(), { images: 0, blobs: [], layerDirs: [], temp: [] });
}));

test('rmi refuses an image a container uses, and a running one even with force', () => withEnv(async (env) => {
  const id = await importBusybox(env);
  const cid = 'c'.repeat(64);
  env.users.set(id, [{ id: cid, running: false }]);
  await assert.rejects(env.contract.remove('busybox', {}), (err: unknown) => err instanceof Conflict
    && err.message === `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${id.slice(7, 19)}`);
  await assert.rejects(env.contract.remove(id, {}), /\(must be forced\) - image is being used by stopped container cccccccccccc/);
  // With a second name, the first can go even though a container uses the image.
  await env.contract.tag(id, 'other');
  assert.deepEqual(await env.contract.remove('other', {}), [{ Untagged: 'other:latest' }]);

  env.users.set(id, [{ id: cid, running: true }]);
  await assert.rejects(env.contract.remove(id, { force: true }), (err: unknown) => err instanceof Conflict
    && err.message === `conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image is being used by running container cccccccccccc`);
  // By name with force: the name goes, the image stays for its running container.
  assert.deepEqual(await env.contract.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  assert.equal(env.images.get(id).id, id);
  assert.equal((await env.contract.list({}))[0]?.Containers, 1);

  env.users.set(id, [{ id: cid, running: false }]);
  const out = await env.contract.remove(id, { force: true });
  assert.deepEqual(out[0], { Deleted: id });
}));

test('list filters by dangling, label, reference, before and since', () => withEnv(async (env) => {
  const a = await importBusybox(env, 'alpha', ['LABEL tier=base']);
  await new Promise((r) => setTimeout(r, 20));
  const b = (await env.images.commit({ parentId: a, layerTar: null, changes: ['LABEL tier=app'], repo: 'beta', tag: '2' })).Id;
  await new Promise((r) => setTimeout(r, 20));
  const c = (await env.images.commit({ parentId: a, layerTar: null, changes: ['CMD ["x"]'] })).Id;
  const ids = async (filters: Record<string, string[]>) => (await env.contract.list({ filters })).map((s) => s.Id);
  assert.deepEqual(await ids({ dangling: ['true'] }), [c]);
  assert.deepEqual((await ids({ dangling: ['false'] })).sort(), [a, b].sort());
  assert.deepEqual(await ids({ label: ['tier=app'] }), [b]);
  // c inherits its parent's labels, as a commit does.
  assert.deepEqual((await ids({ label: ['tier=base'] })).sort(), [a, c].sort());
  assert.deepEqual(await ids({ reference: ['be*'] }), [b]);
  assert.deepEqual(await ids({ reference: ['beta:2'] }), [b]);
  assert.deepEqual(await ids({ before: ['beta:2'] }), [a]);
  assert.deepEqual(await ids({ since: ['beta:2'] }), [c]);
  await assert.rejects(env.contract.list({ filters: { colour: ['red'] } }), /invalid filter 'colour'/);
  assert.deepEqual((await env.contract.list({}))[0]?.Id, c, 'newest first');
}));

test('commit stacks a layer on a parent, keeps history, and the parent cannot go while the child stays', () => withEnv(async (env) => {
  const base = await importBusybox(env);
  const work = mkdtempSync(join(tmpdir(), 'hako-commit-'));
  try {
    writeFileSync(join(work, 'hello.txt'), 'hello\n');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-C', work, '-cf', join(work, '..', `${work.split('/').pop()}.tar`), 'hello.txt']);
    const tarPath = join(work, '..', `${work.split('/').pop()}.tar`);
    try {
      const { Id } = await env.images.commit({
        parentId: base, layerTar: createReadStream(tarPath), comment: 'added hello', author: 'me <me@example.com>',
        changes: ['CMD ["cat", "/hello.txt"]'], repo: 'hello', createdBy: '/bin/sh -c echo hello > /hello.txt',
      });
      const img = await env.contract.inspect('hello');
      assert.equal(img.Id, Id);
      assert.equal(img.Parent, base);
      assert.equal(img.Author, 'me <me@example.com>');
      assert.equal(img.Comment, 'added hello');
      assert.deepEqual((img.Config as { Cmd: string[] }).Cmd, ['cat', '/hello.txt']);
      assert.equal((img.RootFS as { Layers: string[] }).Layers.length, 2);
      const h = await env.contract.history('hello');
      assert.deepEqual(h.map((e) => [e.Id, e.CreatedBy, e.Comment, e.Tags]), [
        [Id, '/bin/sh -c echo hello > /hello.txt', 'added hello', ['hello:latest']],
        [base, '', 'Imported from -', ['busybox:latest']],
      ]);
      assert.ok(((img.GraphDriver as { Data: { LowerDir?: string } }).Data.LowerDir ?? '').length > 0);
      // Untagging the parent leaves it (it has a child); deleting it by id is a hard conflict.
      assert.deepEqual(await env.contract.remove('busybox', {}), [{ Untagged: 'busybox:latest' }]);
      await assert.rejects(env.contract.remove(base, { force: true }), /\(cannot be forced\) - image has dependent child images/);
      // Removing the child prunes the now unnamed parent with it.
      const out = await env.contract.remove('hello', {});
      assert.deepEqual(out.filter((r) => 'Deleted' in r && (r.Deleted === Id || r.Deleted === base)).length, 2);
      assert.deepEqual(await env.leftovers(), { images: 0, blobs: [], layerDirs: [], temp: [] });
    } finally {
      rmSync(tarPath, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}));

test('prune removes dangling images only, unless dangling=false', () => withEnv(async (env) => {
  const named = await importBusybox(env, 'keep');
  const dangling = (await env.images.commit({ parentId: null, layerTar: Readable.from([busyboxTarBytes()]), changes: ['CMD ["true"]'] })).Id;
  const r1 = await env.contract.prune({});
  assert.deepEqual(r1.ImagesDeleted.filter((r) => 'Deleted' in r)[0], { Deleted: dangling });
  assert.equal(r1.SpaceReclaimed, 0, 'the layer is shared with the named image');
  assert.deepEqual((await env.contract.list({})).map((s) => s.Id), [named]);
  env.users.set(named, [{ id: 'd'.repeat(64), running: false }]);
  assert.deepEqual((await env.contract.prune({ dangling: ['false'] })).ImagesDeleted, []);
  env.users.clear();
  const r2 = await env.contract.prune({ dangling: ['false'] });
  assert.deepEqual(r2.ImagesDeleted[0], { Untagged: 'keep:latest' });
  assert.ok(r2.SpaceReclaimed > 1_000_000);
  assert.deepEqual(await env.leftovers(), { images: 0, blobs: [], layerDirs: [], temp: [] });
}));

test('prune honours until= and label filters', () => withEnv(async (env) => {
  const id = (await env.images.commit({ parentId: null, layerTar: Readable.from([busyboxTarBytes()]), changes: ['LABEL keep=yes'] })).Id;
  assert.deepEqual((await env.contract.prune({ until: ['1h'] })).ImagesDeleted, [], 'made just now, not older than an hour');
  const future = String(Math.floor(Date.now() / 1000) + 3600);
  assert.deepEqual((await env.contract.prune({ until: [future], 'label!': ['keep'] })).ImagesDeleted, []);
  assert.deepEqual((await env.contract.prune({ until: [future], label: ['keep=yes'] })).ImagesDeleted[0], { Deleted: id });
  await assert.rejects(env.contract.prune({ reference: ['x'] }), /invalid filter 'reference'/);
}));
