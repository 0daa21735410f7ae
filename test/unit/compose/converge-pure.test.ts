import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, createBody, dependencyLevels, restartPolicy, serviceHash, splitTag, withDependencies } from '../../../src/compose/index.js';
import { network, project, service } from '../../support/compose-project.js';

const noContainers = (s: string): string => { throw new Error(`no container for ${s}`); };

test('the config hash is the same for the same service and changes with its environment', () => {
  const a = service('web', { environment: { A: '1', B: '2' } });
  const b = service('web', { environment: { B: '2', A: '1' } });
  assert.equal(serviceHash(a), serviceHash(b));
  assert.match(serviceHash(a), /^[0-9a-f]{64}$/);
  assert.notEqual(serviceHash(a), serviceHash(service('web', { environment: { A: '1', B: '3' } })));
  // scale, pull policy, build and profiles do not shape a container: changing them recreates nothing.
  assert.equal(serviceHash(a), serviceHash({ ...a, scale: 3, pullPolicy: 'always', profiles: ['x'] }));
});

test('an environment entry without a value takes the host value when the host has one', () => {
  const s = service('web', { environment: { FROM_HOST: null, MISSING: null, SET: 'x' } });
  const { body } = createBody({ project: project('p', [s]), service: s, number: 1, imageId: 'sha256:1', hostEnv: { FROM_HOST: 'h' }, containerOf: noContainers });
  assert.deepEqual(body.Env, ['FROM_HOST=h', 'SET=x']);
  assert.notEqual(serviceHash(s, { FROM_HOST: 'h' }), serviceHash(s, { FROM_HOST: 'other' }));
});

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
});

test('the create body carries compose labels, the name, ports, mounts and the network with aliases', () => {
  const s = service('web', {
    environment: { A: '1' }, command: ['httpd', '-f'], ports: [{ target: 8000, published: '8080', hostIp: '127.0.0.1', protocol: 'tcp' }],
    volumes: [
      { type: 'volume', source: 'data', target: '/data', readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null },
      { type: 'bind', source: '/srv/app/conf', target: '/conf', readOnly: true, createHostPath: true, bindPropagation: null, volumeNocopy: false, tmpfsSize: null },
    ],
    dependsOn: { db: { condition: 'service_healthy', required: true, restart: true } },
    restart: 'on-failure:3', healthcheck: { test: ['CMD-SHELL', 'true'], interval: 1e9, timeout: null, startPeriod: null, startInterval: null, retries: 3, disable: false },
  });
  const p = project('shop', [s, service('db')], { volumes: { data: { name: 'shop_data', driver: 'local', driverOpts: {}, external: false, labels: {} } } });
  const { name, body } = createBody({ project: p, service: s, number: 2, imageId: 'sha256:abc', hostEnv: {}, containerOf: noContainers });
  assert.equal(name, 'shop-web-2');
  const labels = body.Labels as Record<string, string>;
  assert.equal(labels['com.docker.compose.project'], 'shop');
  assert.equal(labels['com.docker.compose.service'], 'web');
  assert.equal(labels['com.docker.compose.container-number'], '2');
  assert.equal(labels['com.docker.compose.oneoff'], 'False');
  assert.equal(labels['com.docker.compose.image'], 'sha256:abc');
  assert.equal(labels['com.docker.compose.depends_on'], 'db:service_healthy:true');
  assert.equal(labels['com.docker.compose.project.config_files'], '/srv/app/compose.yaml');
  assert.equal(labels['com.docker.compose.config-hash'], serviceHash(s));
  assert.deepEqual(body.Cmd, ['httpd', '-f']);
  assert.deepEqual(body.ExposedPorts, { '8000/tcp': {} });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 3 });
  const hc = body.HostConfig as Record<string, unknown>;
  assert.deepEqual(hc.PortBindings, { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] });
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(hc.Binds, ['/srv/app/conf:/conf:ro']);
  assert.deepEqual(hc.Mounts, [{ Type: 'volume', Source: 'shop_data', Target: '/data', ReadOnly: false }]);
  assert.equal(hc.NetworkMode, 'shop_default');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { shop_default: { Aliases: ['web', 'shop-web-2'] } } });
});

test('network_mode service:x joins the first container of x; the primary network is the highest priority', () => {
  const s = service('side', { networkMode: 'service:web', networks: {} });
  const p = project('p', [s, service('web')]);
  const { body } = createBody({ project: p, service: s, number: 1, imageId: '', hostEnv: {}, containerOf: (n) => `id-of-${n}` });
  assert.equal((body.HostConfig as Record<string, unknown>).NetworkMode, 'container:id-of-web');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: {} });
  const two = service('api', {
    networks: {
      back: { aliases: ['api.internal'], ipv4Address: null, ipv6Address: null, macAddress: null, priority: 0 },
      front: { aliases: [], ipv4Address: null, ipv6Address: null, macAddress: null, priority: 10 },
    },
  });
  const p2 = project('p', [two], { networks: { back: network('p_back'), front: network('p_front') } });
  const { body: b2 } = createBody({ project: p2, service: two, number: 1, imageId: '', hostEnv: {}, containerOf: noContainers });
  assert.equal((b2.HostConfig as Record<string, unknown>).NetworkMode, 'p_front');
});

test('an unknown restart policy is refused with the ones that exist', () => {
  assert.throws(() => restartPolicy('sometimes'), /invalid restart policy "sometimes": use no, always, unless-stopped or on-failure/);
  assert.deepEqual(restartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
});

test('services start in dependency order, levels sorted by name', () => {
  const dep = (condition: 'service_started' | 'service_healthy' = 'service_started') => ({ condition, required: true, restart: false });
  const p = project('p', [
    service('web', { dependsOn: { api: dep() } }), service('api', { dependsOn: { db: dep('service_healthy'), cache: dep() } }),
    service('db'), service('cache'), service('admin', { dependsOn: { db: dep() } }),
  ]);
  assert.deepEqual(dependencyLevels(p.services), [['cache', 'db'], ['admin', 'api'], ['web']]);
  assert.deepEqual(withDependencies(p.services, ['web']).sort(), ['api', 'cache', 'db', 'web']);
  // `up --no-deps web`: only web, its dependencies checked but not part of the plan.
  assert.deepEqual(dependencyLevels({ web: p.services.web! }, p.services), [['web']]);
});

test('a dependency cycle is an error naming it, and so is a missing required dependency', () => {
  const dep = { condition: 'service_started' as const, required: true, restart: false };
  const p = project('p', [service('a', { dependsOn: { b: dep } }), service('b', { dependsOn: { c: dep } }), service('c', { dependsOn: { a: dep } })]);
  assert.throws(() => dependencyLevels(p.services), /dependency cycle detected: a -> b -> c -> a/);
  const q = project('p', [service('a', { dependsOn: { ghost: dep } })]);
  assert.throws(() => dependencyLevels(q.services), /service "a" depends on undefined service "ghost"/);
  const optional = project('p', [service('a', { dependsOn: { ghost: { ...dep, required: false } } })]);
  assert.deepEqual(dependencyLevels(optional.services), [['a']]);
});

test('image references split into name and tag as the pull API takes them', () => {
  assert.deepEqual(splitTag('busybox'), ['busybox', 'latest']);
  assert.deepEqual(splitTag('localhost:5000/a/b:1.2'), ['localhost:5000/a/b', '1.2']);
  assert.deepEqual(splitTag('localhost:5000/a/b'), ['localhost:5000/a/b', 'latest']);
  assert.deepEqual(splitTag('x@sha256:00'), ['x@sha256:00', undefined]);
});

// Which subsystems compose/ may import is checked with the CLI's in test/unit/cli/layering.test.ts.

test('a recreated container takes over the anonymous volumes of the one it replaces, the image\'s VOLUMEs too', () => {
  const s = service('db', {
    volumes: [{ type: 'volume', source: null, target: '/var/lib/db', readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null }],
  });
  const old = 'a'.repeat(64);
  const img = 'b'.repeat(64);
  const { name, body } = createBody({
    project: project('p', [s]), service: s, number: 1, imageId: '', hostEnv: {}, containerOf: noContainers,
    name: '0123456789ab_p-db-1', inherit: [{ name: old, target: '/var/lib/db' }, { name: img, target: '/cache' }],
  });
  assert.equal(name, '0123456789ab_p-db-1');
  assert.deepEqual((body.HostConfig as Record<string, unknown>).Mounts, [
    { Type: 'volume', Source: old, Target: '/var/lib/db', ReadOnly: false },
    { Type: 'volume', Source: img, Target: '/cache', ReadOnly: false },
  ]);
  assert.equal((body.Labels as Record<string, string>)['com.docker.compose.container-number'], '1');
});
