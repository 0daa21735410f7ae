import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterContainers, statusText, summaryView } from '../../../src/engine/containers/views.js';
import { initialState, type ContainerRecord } from '../../../src/engine/containers/record.js';
import { hostsFile, resolvConfFile } from '../../../src/engine/containers/etc-files.js';

function rec(name: string, over: Partial<ContainerRecord['State']> = {}, labels: Record<string, string> = {}): ContainerRecord {
  return {
    Id: `${name}`.padEnd(64, '0'), Name: name, Created: new Date().toISOString(), Path: 'sh', Args: ['-c', 'echo hi'],
    Image: 'sha256:img', ChainId: null, Config: { Image: 'busybox', Labels: labels }, HostConfig: { NetworkMode: 'default' },
    State: { ...initialState(), ...over }, RestartCount: 0, LogPath: '', ResolvConfPath: '', HostnamePath: '', HostsPath: '', Platform: 'linux',
  };
}
const ctx = { ancestorIds: () => new Set(['sha256:img']), find: () => undefined };

test('filters combine: values of one key OR, keys AND', () => {
  const list = [rec('web', { Status: 'running', Running: true }, { app: 'a' }), rec('db', { Status: 'exited', ExitCode: 3 }, { app: 'b' })];
  assert.deepEqual(filterContainers(list, { status: ['running', 'exited'] }, ctx).map((r) => r.Name), ['web', 'db']);
  assert.deepEqual(filterContainers(list, { label: ['app=b'] }, ctx).map((r) => r.Name), ['db']);
  assert.deepEqual(filterContainers(list, { exited: ['3'] }, ctx).map((r) => r.Name), ['db']);
  assert.deepEqual(filterContainers(list, { name: ['^/w'] }, ctx).map((r) => r.Name), ['web']);
  assert.deepEqual(filterContainers(list, { ancestor: ['busybox'], status: ['running'] }, ctx).map((r) => r.Name), ['web']);
  assert.throws(() => filterContainers(list, { colour: ['red'] }, ctx), /invalid filter 'colour'/);
  assert.throws(() => filterContainers(list, { status: ['sleeping'] }, ctx), /invalid filter 'status=sleeping'/);
});

test('status text reads like docker ps', () => {
  const now = Date.now();
  const up = rec('a', { Status: 'running', Running: true, StartedAt: new Date(now - 5 * 60_000).toISOString() });
  assert.equal(statusText(up, now), 'Up 5 minutes');
  const ex = rec('b', { Status: 'exited', ExitCode: 1, FinishedAt: new Date(now - 3000).toISOString() });
  assert.equal(statusText(ex, now), 'Exited (1) 3 seconds ago');
  assert.equal(statusText(rec('c'), now), 'Created');
  assert.equal(summaryView(up, 'busybox').Command, "sh -c 'echo hi'");
});

test('etc files: hosts names the container, resolv.conf drops loopback servers', () => {
  assert.match(hostsFile('abc'), /127\.0\.1\.1\tabc\n$/);
  assert.equal(resolvConfFile('nameserver 127.0.0.53\nsearch lan\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch lan\n');
  assert.equal(resolvConfFile('nameserver 10.0.0.2\n'), 'nameserver 10.0.0.2\n');
});
