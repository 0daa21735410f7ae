/**
 * What a crash leaves in the image stores (a pull or load killed before its image was recorded, an
 * rmi killed between its record and its files) is removed when hakod starts again; what images
 * use stays, and they still run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startHakod, type Hakod } from '../../support/hakod.js';

let d: Hakod;
before(async () => { d = await startHakod(); });
after(async () => { await d?.stop(); });

test('hakod removes orphan blobs, interrupted ingests and record-less layer dirs at start-up', async () => {
  const blobs = join(d.dataRoot, 'content', 'blobs', 'sha256');
  const overlay = join(d.dataRoot, 'overlay');
  const inUse = readdirSync(blobs).sort();
  const layersInUse = readdirSync(overlay).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
  assert.ok(inUse.length >= 2 && layersInUse.length >= 1, `busybox is stored: ${inUse.join(', ')}`);
  await d.kill9(); // as a crash would: the daemon gone in the middle of whatever it did

  const orphan = randomBytes(32).toString('hex');
  writeFileSync(join(blobs, orphan), 'a layer blob whose pull died before the image was recorded');
  writeFileSync(join(blobs, '.ingest-5e1f0c2a9b8d7e6f'), 'half a download');
  const recordless = randomBytes(32).toString('hex');
  mkdirSync(join(overlay, recordless, 'diff', 'etc'), { recursive: true });
  writeFileSync(join(overlay, recordless, 'diff', 'etc', 'motd'), 'from a layer whose rmi died half-way\n');
  symlinkSync(`../${recordless}/diff`, join(overlay, 'l', 'DANGLINGSHORTLINK0000000000'));
  await d.restart();

  assert.deepEqual(readdirSync(blobs).sort(), inUse, d.logTail());
  assert.deepEqual(readdirSync(overlay).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(), layersInUse);
  assert.equal(existsSync(join(overlay, 'l', 'DANGLINGSHORTLINK0000000000')), false);
  assert.match(d.logTail(), /1 unreferenced blob\(s\) \(\d+ bytes\), 1 layer dir\(s\) without a record/);
  const r = await d.hako(['run', '--rm', 'busybox', 'cat', '/bin/busybox'], {});
  assert.equal(r.code, 0, r.stderr);
  const images = await d.hako(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.match(images.stdout, /busybox:latest/);
});
