import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeContainerConfig, commandLine, normalizeHostConfig } from '../../../src/engine/containers/create-config.js';

const image = {
  Env: ['PATH=/usr/bin:/bin', 'LANG=C'],
  Cmd: ['sh'],
  Entrypoint: null,
  WorkingDir: '/srv',
  User: 'app',
  Labels: { maintainer: 'x', tier: 'base' },
  StopSignal: 'SIGQUIT',
};

test('the image fills in what the user left out', () => {
  const c = mergeContainerConfig({ Image: 'busybox' }, image, 'abc123');
  assert.deepEqual(c.Cmd, ['sh']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, 'app');
  assert.equal(c.Hostname, 'abc123');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(commandLine(c), { Path: 'sh', Args: [] });
});

test('user env overrides the image env by key and keeps order', () => {
  const c = mergeContainerConfig({ Env: ['LANG=ja_JP.UTF-8', 'X=1'] }, image, 'h');
  assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'LANG=ja_JP.UTF-8', 'X=1']);
});

test('a user entrypoint drops the image cmd', () => {
  const c = mergeContainerConfig({ Entrypoint: ['echo'] }, image, 'h');
  assert.deepEqual(commandLine(c), { Path: 'echo', Args: [] });
  const d = mergeContainerConfig({ Entrypoint: ['echo'], Cmd: ['hi'] }, image, 'h');
  assert.deepEqual(commandLine(d), { Path: 'echo', Args: ['hi'] });
});

test('labels merge with the user winning', () => {
  const c = mergeContainerConfig({ Labels: { tier: 'web' } }, image, 'h');
  assert.deepEqual(c.Labels, { maintainer: 'x', tier: 'web' });
});

test('no command at all is an error naming the problem', () => {
  const c = mergeContainerConfig({}, { Cmd: null }, 'h');
  assert.throws(() => commandLine(c), /no command specified/);
});

test('a relative working directory is refused', () => {
  assert.throws(() => mergeContainerConfig({ WorkingDir: 'srv' }, image, 'h'), /needs to be an absolute path/);
});

test('host config gets docker defaults', () => {
  const hc = normalizeHostConfig(undefined);
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
  assert.equal(hc.ShmSize, 67108864);
  assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

test('host config has the keys docker always shows, which SDKs index without checking', () => {
  const hc = normalizeHostConfig({ Dns: ['1.1.1.1'] });
  assert.deepEqual(hc.PortBindings, {});
  assert.equal(hc.ContainerIDFile, '');
  assert.deepEqual(hc.Dns, ['1.1.1.1']);
  for (const k of ['DnsOptions', 'DnsSearch', 'ExtraHosts', 'Links']) assert.equal(hc[k], null, k);
});

test('HostConfig and NetworkingConfig of the create body stay out of Config', () => {
  const c = mergeContainerConfig({ Image: 'busybox', HostConfig: { Privileged: true }, NetworkingConfig: { EndpointsConfig: {} } }, image, 'h');
  assert.equal('HostConfig' in c, false);
  assert.equal('NetworkingConfig' in c, false);
});
