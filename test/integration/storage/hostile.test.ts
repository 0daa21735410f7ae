import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyLayerTar, type ApplyMode } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import { exists, streamOf, tarOf, withTempDir, type TarEntry } from './fixtures.js';

/** A target dir next to an "outside" dir holding a secret, as a host would around a layer dir. */
async function scene(fn: (s: { target: string; outside: string; secret: string }) => Promise<void>): Promise<void> {
  await withTempDir('hostile', async (dir) => {
    const target = join(dir, 'target');
    const outside = join(dir, 'outside');
    await mkdir(target);
    await mkdir(outside);
    const secret = join(outside, 'secret');
    await writeFile(secret, 'host data');
    await fn({ target, outside, secret });
  });
}

async function assertOutsideUntouched(outside: string, secret: string): Promise<void> {
  assert.deepEqual(await readdir(outside), ['secret']);
  assert.equal(await readFile(secret, 'utf8'), 'host data');
  assert.equal((await lstat(secret)).nlink, 1, 'no hard link to the host file was made');
}

for (const mode of ['overlay', 'flatten'] as ApplyMode[]) {
  for (const name of ['../outside/evil', 'a/../../outside/evil', './../outside/evil', '/../outside/evil']) {
    test(`apply (${mode}) refuses an entry named "${name}" that climbs out`, async () => {
      await scene(async ({ target, outside, secret }) => {
        const data = await tarOf([{ name: 'ok', content: 'fine' }, { name, content: 'pwned' }]);
        await assert.rejects(applyLayerTar(streamOf(data), target, { mode }),
          (err: unknown) => err instanceof InvalidArgument && err.message.includes(name));
        await assertOutsideUntouched(outside, secret);
      });
    });
  }

  test(`apply (${mode}) refuses a whiteout that climbs out`, async () => {
    await scene(async ({ target, outside, secret }) => {
      await assert.rejects(applyLayerTar(streamOf(await tarOf([{ name: '../outside/.wh.secret' }])), target, { mode }), InvalidArgument);
      await assertOutsideUntouched(outside, secret);
    });
  });
}

test('apply refuses a hard link whose target is outside, naming the entry', async () => {
  await scene(async ({ target, outside, secret }) => {
    const data = await tarOf([{ name: 'h', type: 'link', linkname: '../outside/secret' }]);
    await assert.rejects(applyLayerTar(streamOf(data), target, { mode: 'overlay' }),
      (err: unknown) => err instanceof InvalidArgument && err.message.includes('"h"') && err.message.includes('../outside/secret'));
    await assertOutsideUntouched(outside, secret);
  });
});

test('a hard link through a symlink to outside resolves inside the target, never to the host file', async () => {
  await scene(async ({ target, outside, secret }) => {
    const data = await tarOf([
      { name: 's', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 's/secret' },
    ]);
    // <target><outside>/secret does not exist, so the link fails rather than reach the host.
    await assert.rejects(applyLayerTar(streamOf(data), target, { mode: 'overlay' }));
    await assertOutsideUntouched(outside, secret);
    assert.equal(await exists(join(target, 'h')), false);
  });
});

const pointingOut: Array<[string, (outside: string) => string]> = [
  ['absolute', (outside) => outside],
  ['climbing', (outside) => '../../../../../../../..' + outside],
];
for (const [label, linkTo] of pointingOut) {
  test(`writing through an ${label} symlink to outside lands inside the target`, async () => {
    await scene(async ({ target, outside, secret }) => {
      const entries: TarEntry[] = [
        { name: 'a', type: 'symlink', linkname: linkTo(outside) },
        { name: 'a/secret', content: 'pwned' },
        { name: 'a/new/file', content: 'pwned' },
      ];
      await applyLayerTar(streamOf(await tarOf(entries)), target, { mode: 'flatten' });
      await assertOutsideUntouched(outside, secret);
      assert.equal(await readFile(join(target, outside, 'secret'), 'utf8'), 'pwned');
      assert.equal(await readFile(join(target, outside, 'new/file'), 'utf8'), 'pwned');
    });
  });
}

test('a symlink to /etc followed by etc files writes the target\'s etc, not the host\'s', async () => {
  await withTempDir('hostile-etc', async (target) => {
    const before = await readFile('/etc/passwd', 'utf8');
    await applyLayerTar(streamOf(await tarOf([
      { name: 'a', type: 'symlink', linkname: '/etc' },
      { name: 'a/passwd', content: 'evil::0:0::/:/bin/sh\n' },
    ])), target, { mode: 'overlay' });
    assert.equal(await readFile('/etc/passwd', 'utf8'), before);
    assert.equal(await readFile(join(target, 'etc/passwd'), 'utf8'), 'evil::0:0::/:/bin/sh\n');
  });
});

test('an entry over an existing symlink replaces the link instead of writing through it', async () => {
  await scene(async ({ target, outside, secret }) => {
    await symlink(secret, join(target, 'c'));
    await applyLayerTar(streamOf(await tarOf([{ name: 'c', content: 'mine' }])), target, { mode: 'flatten' });
    await assertOutsideUntouched(outside, secret);
    assert.ok((await lstat(join(target, 'c'))).isFile());
    assert.equal(await readFile(join(target, 'c'), 'utf8'), 'mine');
  });
});

test('an opaque marker under a symlink to outside empties only the target\'s directory', async () => {
  await scene(async ({ target, outside, secret }) => {
    await applyLayerTar(streamOf(await tarOf([
      { name: 'o', type: 'symlink', linkname: outside },
      { name: 'o/.wh..wh..opq' },
      { name: 'o/.wh.secret' },
    ])), target, { mode: 'flatten' });
    await assertOutsideUntouched(outside, secret);
  });
});

test('absolute entry names are taken relative to the target', async () => {
  await scene(async ({ target }) => {
    await applyLayerTar(streamOf(await tarOf([{ name: '/etc/hostile', content: 'inside' }])), target, { mode: 'overlay' });
    assert.equal(await readFile(join(target, 'etc/hostile'), 'utf8'), 'inside');
    assert.equal(await exists('/etc/hostile'), false);
  });
});
