/**
 * `ps --filter ancestor=IMAGE`: containers of IMAGE and of every image built on top of it, as
 * docker lists them (moby daemon/list.go walks the image's children).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { engineForFile } from '../../support/engine.js';
import { busyboxTarball } from '../../support/busybox.js';

const t = engineForFile();

async function created(image: string, name: string): Promise<string> {
  return (await t.engine.containers.create({ Image: image, Cmd: ['true'] }, { name })).Id;
}

async function namesWith(ancestor: string): Promise<string[]> {
  const list = await t.engine.containers.list({ all: true, filters: { ancestor: [ancestor] } });
  return list.map((c) => (c.Names as string[])[0]!.slice(1)).sort();
}

test('ancestor= matches containers of the image and of every image committed or loaded on top of it', async () => {
  const c = t.engine.containers;
  const images = t.engine.images;
  await created('busybox', 'on-busybox');
  // child:1 is a commit of a busybox container, grand:1 a commit of a child:1 container.
  await c.commit(await created('busybox', 'maker1'), { repo: 'child', tag: '1' });
  await created('child:1', 'on-child');
  await c.commit(await created('child:1', 'maker2'), { repo: 'grand', tag: '1' });
  await created('grand:1', 'on-grand');
  // A saved and loaded image has no parent any more: its layers still start with busybox's.
  await c.commit(await created('busybox', 'maker3'), { repo: 'shipped', tag: '1' });
  const archive = await images.save(['shipped:1']);
  const body = new PassThrough();
  archive.pipe(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  await images.remove('shipped:1', {});
  const again = new PassThrough();
  again.end(Buffer.concat(chunks));
  await images.load(again, { quiet: true });
  assert.equal((await images.inspect('shipped:1')).Parent, '');
  await created('shipped:1', 'on-shipped');
  // twin:1 has busybox's very layers under another config: neither is built on the other, but
  // what stacks layers on busybox's stacks them on twin's too (moby compares layers, not configs).
  const twin = await images.importRootfs(createReadStream(busyboxTarball()), { repo: 'twin', tag: '1', changes: ['ENV TWIN=1'] });
  await created(twin.Id, 'on-twin');

  assert.deepEqual(await namesWith('busybox'), ['maker1', 'maker3', 'on-busybox', 'on-child', 'on-grand', 'on-shipped', 'maker2'].sort());
  assert.deepEqual(await namesWith('child:1'), ['maker2', 'on-child', 'on-grand']);
  assert.deepEqual(await namesWith('grand:1'), ['on-grand']);
  assert.deepEqual(await namesWith('twin:1'), ['maker2', 'on-child', 'on-grand', 'on-shipped', 'on-twin']);
  // Values of one key OR; an unknown image matches nothing (docker only logs it).
  assert.deepEqual(await namesWith('no-such-image'), []);
  const either = await c.list({ all: true, filters: { ancestor: ['grand:1', 'shipped:1'] } });
  assert.deepEqual(either.map((x) => (x.Names as string[])[0]).sort(), ['/on-grand', '/on-shipped']);
});
