import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseApiMount, planMounts, mountView } from '../../../src/volumes/index.js';
import { validateLocalOptions } from '../../../src/volumes/index.js';

const exists = (p: string): boolean => p !== '/missing';

test('-v /host:/ctr is a bind with rprivate propagation; a mode string is kept as docker shows it', () => {
  const b = parseBind('/srv/data:/data:ro');
  assert.deepEqual(mountView(b), { Type: 'bind', Source: '/srv/data', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' });
  assert.equal(parseBind('/a:/b:rshared').Propagation, 'rshared');
  assert.equal(parseBind('/a:/b/').Destination, '/b');
});

test('-v name:/ctr is a named volume (mode z), nocopy turns copy-up off', () => {
  const v = parseBind('cache:/var/cache');
  assert.deepEqual(mountView(v), { Type: 'volume', Name: 'cache', Source: '', Destination: '/var/cache', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
  assert.equal(v.CopyData, true);
  assert.equal(parseBind('cache:/c:nocopy').CopyData, false);
});

test('bad -v specs are refused with docker\'s words', () => {
  assert.throws(() => parseBind('rel/dir:/x'), /includes invalid characters for a local volume name.*use absolute path/);
  assert.throws(() => parseBind('/a:b'), /invalid volume specification: '\/a:b': invalid mount path: 'b' mount path must be absolute/);
  assert.throws(() => parseBind('/a:/'), /destination can't be '\/'/);
  assert.throws(() => parseBind('/a:/b:ro,rw'), /invalid mode: ro,rw/);
  assert.throws(() => parseBind('/a:/b:c:d'), /invalid volume specification/);
  assert.throws(() => parseBind('vol:/b:rshared'), /invalid mode/);
});

test('--mount: bind sources must exist, tmpfs takes size and mode, unknown types and fields are refused', () => {
  assert.throws(() => parseApiMount({ Type: 'bind', Source: '/missing', Target: '/x' }, exists), /invalid mount config for type "bind": bind source path does not exist: \/missing/);
  assert.throws(() => parseApiMount({ Type: 'bind', Source: 'rel', Target: '/x' }, exists), /mount path must be absolute/);
  const t = parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }, exists);
  assert.deepEqual(t.TmpfsOptions, ['size=1024k', 'mode=1777']);
  assert.throws(() => parseApiMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }, exists), /Source must not be specified/);
  assert.throws(() => parseApiMount({ Type: 'nfs', Target: '/t' }, exists), /mount type unknown/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/t', Bogus: 1 }, exists), /unknown field "Bogus"/);
  assert.throws(() => parseApiMount({ Type: 'volume', Target: '/t', VolumeOptions: { DriverConfig: { Name: 'nfs' } } }, exists), /volume driver "nfs"/);
  const anon = parseApiMount({ Type: 'volume', Target: '/t', ReadOnly: true }, exists);
  assert.equal(anon.Anonymous, true);
  assert.equal(anon.RW, false);
});

test('planMounts: -v replaces an inherited mount, -v and --mount may not collide, VOLUMEs fill the rest', () => {
  const inherited = parseBind('shared:/data');
  const plan = planMounts({
    binds: ['/host:/data'], mounts: [{ Type: 'tmpfs', Target: '/run' }], volumes: ['/data', '/var/lib/x', '/run', '/tmp'],
    from: [{ mode: 'ro', mounts: [inherited, parseBind('other:/other')] }], tmpfs: ['/tmp'], exists,
  });
  assert.deepEqual(plan.map((m) => `${m.Type} ${m.Destination} ${m.RW ? 'rw' : 'ro'}${m.Anonymous ? ' anon' : ''}`), [
    'bind /data rw', 'volume /other ro', 'tmpfs /run rw', 'volume /var/lib/x rw anon',
  ]);
  assert.throws(() => planMounts({ binds: ['/a:/x'], mounts: [{ Type: 'tmpfs', Target: '/x' }], volumes: [], from: [], tmpfs: [], exists }), /Duplicate mount point: \/x/);
});

test('the local driver takes type, o and device, each with the others it needs', () => {
  validateLocalOptions('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  validateLocalOptions('v', {});
  assert.throws(() => validateLocalOptions('v', { colour: 'red' }), /create v: invalid option: "colour"/);
  assert.throws(() => validateLocalOptions('v', { o: 'size=1m' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions('v', { type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions('v', { size: '1g' }), /quota/);
});
