import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freeRange, idMapOf, idMappers, parseRemapSpec, parseSubIds, rangesOf, toHost } from '../../../src/userns/index.js';
import { buildOciSpec } from '../../../src/runtime/index.js';

const FILE = `# comment
alice:100000:65536
1001:165536:65536
broken line
hako-remap:231072:65536
hako-remap:400000:1000
`;

test('subuid lines are read by name or id, in file order, and become one map from container id 0', () => {
  const entries = parseSubIds(FILE);
  assert.equal(entries.length, 4);
  assert.deepEqual(rangesOf(entries, ['bob', '1001']), [{ start: 165536, count: 65536 }]);
  const map = idMapOf(rangesOf(entries, ['hako-remap']));
  assert.deepEqual(map, [{ containerID: 0, hostID: 231072, size: 65536 }, { containerID: 65536, hostID: 400000, size: 1000 }]);
  assert.equal(toHost(map, 0), 231072);
  assert.equal(toHost(map, 65537), 400001);
  assert.equal(toHost(map, 70000), -1);
});

test('a new remap user gets the first free 65536 ids at or above 100000', () => {
  assert.deepEqual(freeRange([]), { start: 100000, count: 65536 });
  assert.deepEqual(freeRange(parseSubIds(FILE)), { start: 296608, count: 65536 });
  assert.deepEqual(freeRange(parseSubIds('a:300000:10\n')), { start: 100000, count: 65536 });
});

test('userns-remap takes user or user:group and refuses anything else', () => {
  assert.deepEqual(parseRemapSpec('alice'), { user: 'alice', group: null });
  assert.deepEqual(parseRemapSpec('1001:1001'), { user: '1001', group: '1001' });
  assert.throws(() => parseRemapSpec('a:b:c'), /use "default" or "user\[:group\]"/);
  assert.throws(() => parseRemapSpec(''), /userns-remap ""/);
});

test('a remapped container gets a user namespace and the maps; its /sys is bound when it joins an engine netns', () => {
  const base = { id: 'c1', rootfs: '/r', args: ['sh'] };
  const userns = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
  const spec = buildOciSpec({ ...base, userns, namespaces: { network: { path: '/run/netns/x' } } });
  assert.ok(spec.linux.namespaces.some((n) => n.type === 'user'));
  assert.deepEqual(spec.linux.uidMappings, userns.uidMappings);
  assert.deepEqual(spec.linux.gidMappings, userns.gidMappings);
  assert.equal(spec.mounts.find((m) => m.destination === '/sys')?.type, 'bind');
  const plain = buildOciSpec(base);
  assert.ok(!plain.linux.namespaces.some((n) => n.type === 'user'));
  assert.equal(plain.linux.uidMappings, undefined);
  assert.equal(plain.mounts.find((m) => m.destination === '/sys')?.type, 'sysfs');
});

test('tars of a remapped container carry container ids; ids outside the map become nobody', () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const ids = idMappers({ uidMappings: map, gidMappings: map });
  assert.deepEqual(ids.toContainer(100007, 100008), [7, 8]);
  assert.deepEqual(ids.toContainer(0, 0), [65534, 65534]);
  assert.deepEqual(ids.toHost(0, 5), [100000, 100005]);
  assert.deepEqual(ids.toHost(70000, 0), [165534, 100000]);
});

test('--userns takes "" or "host"; a remapping daemon refuses --privileged and host namespaces, and puts containers in its user namespace unless --userns=host', async () => {
  const { UsernsExtension } = await import('../../../src/userns/index.js');
  const rec = (hc: Record<string, unknown>) => ({ Id: 'c1', HostConfig: hc, HostsPath: '', HostnamePath: '', ResolvConfPath: '' }) as never;
  const plain = new UsernsExtension(null);
  plain.create(rec({ UsernsMode: 'host' }));
  assert.throws(() => plain.create(rec({ UsernsMode: 'bogus' })), /invalid --userns "bogus"/);
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const remapped = new UsernsExtension({ spec: 'default', user: 'hako-remap', group: 'hako-remap', uidMappings: map, gidMappings: map, uid: 100000, gid: 100000 }, '/proc/1/fd/9');
  // --userns=host: no remap for this one, so what only a user namespace rules out is allowed (as docker).
  remapped.create(rec({ UsernsMode: 'host', Privileged: true, PidMode: 'host', NetworkMode: 'host' }));
  const unmapped = { id: 'c1', rootfs: '/r', args: ['sh'] } as Parameters<InstanceType<typeof UsernsExtension>['prepare']>[1];
  await remapped.prepare(rec({ UsernsMode: 'host' }), unmapped);
  assert.equal(unmapped.userns, undefined);
  assert.throws(() => remapped.create(rec({ Privileged: true })), /privileged mode is incompatible with user namespaces/);
  assert.throws(() => remapped.create(rec({ PidMode: 'host' })), /host PID namespace/);
  remapped.create(rec({}));
  const settings = { id: 'c1', rootfs: '/r', args: ['sh'] } as Parameters<InstanceType<typeof UsernsExtension>['prepare']>[1];
  await remapped.prepare(rec({}), settings);
  assert.deepEqual(settings.userns, { uidMappings: map, gidMappings: map, path: '/proc/1/fd/9' });
});
