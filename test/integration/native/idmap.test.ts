import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { native, MNT_DETACH } from '../../../src/native/index.js';
import { openUserNamespace } from '../../../src/userns/index.js';

const mounted = (path: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

test('idmapMount shows a layer through a user namespace map, and overlayfs keeps it after the idmapped mount is detached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-idmap-'));
  const map = [{ containerID: 0, hostID: 200000, size: 65536 }];
  const fd = await openUserNamespace(map, map);
  const [lower, mapped, upper, work, merged] = ['lower', 'mapped', 'upper', 'work', 'merged'].map((n) => join(dir, n)) as [string, string, string, string, string];
  try {
    for (const d of [lower, mapped, upper, work, merged]) mkdirSync(d);
    writeFileSync(join(lower, 'f'), 'layer\n');
    native().idmapMount(lower, mapped, fd);
    assert.equal(statSync(join(mapped, 'f')).uid, 200000);
    native().mount('overlay', merged, 'overlay', 0, `lowerdir=${mapped},upperdir=${upper},workdir=${work}`);
    native().umount2(mapped, MNT_DETACH);
    assert.equal(statSync(join(merged, 'f')).uid, 200000);
    appendFileSync(join(merged, 'f'), 'changed\n');
    // Copy-up keeps the mapped owner; the layer itself is untouched.
    assert.equal(statSync(join(upper, 'f')).uid, 200000);
    assert.equal(statSync(join(lower, 'f')).uid, 0);
    assert.equal(readFileSync(join(lower, 'f'), 'utf8'), 'layer\n');
    assert.throws(() => native().idmapMount(join(dir, 'missing'), mapped, fd), { code: 'ENOENT' });
  } finally {
    for (const m of [merged, mapped]) if (mounted(m)) native().umount2(m, MNT_DETACH);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
