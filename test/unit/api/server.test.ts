import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Conflict, NotFound, NotModified } from '../../../src/errdefs/index.js';
import { startServer, type TestServer } from './support.js';

let server: TestServer;
const created: Array<{ body: unknown; opts: unknown }> = [];
const stops: unknown[] = [];

before(async () => {
  server = await startServer({
    system: {
      version: () => ({ Version: '0.1.0', Os: 'linux' }),
      info: async () => ({ Name: 'test-host' }),
    },
    containers: {
      async create(body, opts) {
        created.push({ body, opts });
        return { Id: 'c0ffee', Warnings: [] };
      },
      async inspect(ref) {
        if (ref === 'web') return { Id: 'c0ffee', Name: '/web' };
        throw new NotFound(`No such container: ${ref}`);
      },
      async list(opts) {
        return [{ Id: 'c0ffee', opts }];
      },
      async start(ref) {
        if (ref === 'running') throw new NotModified(`container ${ref} is already started`);
      },
      async stop(ref, opts) {
        stops.push({ ref, opts });
      },
      async remove(ref) {
        if (ref === 'busy') throw new Conflict(`cannot remove container "busy": container is running: stop the container before removing or force remove`);
      },
      async kill() {
        throw new TypeError('boom in the engine');
      },
    },
    images: {
      async inspect(ref) {
        return { Id: 'sha256:1', RepoTags: [ref] };
      },
    },
  });
});

after(() => server.close());

test('GET /_ping answers OK with the headers docker negotiates with', async () => {
  const reply = await server.request('GET', '/_ping');
  assert.equal(reply.status, 200);
  assert.equal(reply.text, 'OK');
  assert.equal(reply.headers['api-version'], '1.47');
  assert.equal(reply.headers['ostype'], 'linux');
  assert.equal(reply.headers['docker-experimental'], 'false');
  assert.equal(reply.headers['pragma'], 'no-cache');
  assert.match(String(reply.headers['cache-control']), /no-cache/);
  assert.ok(reply.headers['builder-version']);
});

test('HEAD /_ping answers 200 with the headers and no body', async () => {
  const reply = await server.request('HEAD', '/_ping');
  assert.equal(reply.status, 200);
  assert.equal(reply.body.length, 0);
  assert.equal(reply.headers['api-version'], '1.47');
});

test('GET /version advertises API 1.47 and minimum 1.24 next to the engine fields', async () => {
  const reply = await server.request('GET', '/v1.47/version');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json(), { Version: '0.1.0', Os: 'linux', ApiVersion: '1.47', MinAPIVersion: '1.24' });
});

test('requests answer as docker does: status and body per request', async () => {
  const table: Array<{ method: string; url: string; body?: string; status: number; json?: unknown; message?: RegExp }> = [
    { method: 'GET', url: '/v1.24/containers/web/json', status: 200, json: { Id: 'c0ffee', Name: '/web' } },
    { method: 'GET', url: '/containers/nope/json', status: 404, json: { message: 'No such container: nope' } },
    { method: 'GET', url: '/v1.50/containers/web/json', status: 400, json: { message: 'client version 1.50 is too new. Maximum supported API version is 1.47' } },
    { method: 'GET', url: '/v1.12/info', status: 400, message: /too old/ },
    { method: 'GET', url: '/v1.47/info', status: 200, json: { Name: 'test-host' } },
    { method: 'GET', url: '/v1.47/volumes/x/y/z', status: 404, json: { message: 'page not found' } },
    { method: 'PUT', url: '/containers/web/start', status: 404, json: { message: 'page not found' } },
    { method: 'POST', url: '/containers/web/start', status: 204 },
    { method: 'POST', url: '/containers/running/start', status: 304 },
    { method: 'DELETE', url: '/containers/busy', status: 409, message: /stop the container before removing/ },
    { method: 'POST', url: '/containers/web/kill', status: 500, json: { message: 'boom in the engine' } },
    { method: 'POST', url: '/containers/create', body: '{"Image": ', status: 400, message: /invalid JSON in container config/ },
    { method: 'POST', url: '/containers/create', body: '[1]', status: 400, message: /expected a JSON object/ },
    { method: 'POST', url: '/containers/create', body: '', status: 400, message: /config cannot be empty/ },
    { method: 'POST', url: '/containers/create?name=-bad', body: '{"Image":"busybox"}', status: 400, message: /Invalid container name \(-bad\)/ },
    { method: 'POST', url: '/containers/create?name=a', body: '{"Image":"busybox"}', status: 400, message: /Invalid container name/ },
    { method: 'POST', url: '/containers/create?name=/web-1', body: '{"Image":"busybox"}', status: 201, json: { Id: 'c0ffee', Warnings: [] } },
    { method: 'POST', url: '/containers/web/update', body: '{}', status: 501, message: /not implemented yet/ },
    { method: 'GET', url: '/containers/json?all=maybe', status: 400, message: /"all"/ },
    { method: 'GET', url: '/images/localhost:5000/a/b:tag/json', status: 200, json: { Id: 'sha256:1', RepoTags: ['localhost:5000/a/b:tag'] } },
    { method: 'POST', url: '/images/create?fromImage=', status: 400, message: /"fromImage" or "fromSrc" is required/ },
    { method: 'GET', url: '/v1.47/plugins', status: 200, json: [] },
    { method: 'GET', url: '/v1.47/swarm', status: 503, message: /^This node is not a swarm manager\. Use "docker swarm init"/ },
    { method: 'GET', url: '/services?filters={}', status: 503, message: /not a swarm manager/ },
    { method: 'DELETE', url: '/secrets/s1', status: 503, message: /not a swarm manager/ },
    { method: 'POST', url: '/swarm/init', body: '{}', status: 501, message: /swarm mode is not supported by hako/ },
    { method: 'GET', url: '/swarmy', status: 404, json: { message: 'page not found' } },
  ];
  for (const row of table) {
    const reply = await server.request(row.method, row.url, row.body, row.body === undefined ? {} : { 'Content-Type': 'application/json' });
    const label = `${row.method} ${row.url}`;
    assert.equal(reply.status, row.status, `${label}: ${reply.text}`);
    if (row.status === 304 || row.status === 204) assert.equal(reply.body.length, 0, label);
    if (row.status >= 400) assert.equal(reply.headers['content-type'], 'application/json', label);
    if (row.json !== undefined) assert.deepEqual(reply.json(), row.json, label);
    if (row.message !== undefined) assert.match((reply.json() as { message: string }).message, row.message, label);
  }
});

test('create passes the name without its slash and the body to the engine', async () => {
  created.length = 0;
  await server.request('POST', '/v1.47/containers/create?name=/web-1&platform=linux/amd64', '{"Image":"busybox","Cmd":["true"]}');
  assert.deepEqual(created, [{ body: { Image: 'busybox', Cmd: ['true'] }, opts: { name: 'web-1', platform: 'linux/amd64' } }]);
});

test('list decodes all, limit and both forms of filters', async () => {
  const reply = await server.request('GET', `/containers/json?all=1&limit=3&filters=${encodeURIComponent('{"status":{"exited":true}}')}`);
  assert.deepEqual((reply.json() as Array<{ opts: unknown }>)[0]?.opts, { all: true, size: false, filters: { status: ['exited'] }, limit: 3 });
});

test('stop passes signal and timeout', async () => {
  stops.length = 0;
  const reply = await server.request('POST', '/containers/web/stop?t=3&signal=SIGINT');
  assert.equal(reply.status, 204);
  assert.deepEqual(stops, [{ ref: 'web', opts: { signal: 'SIGINT', timeout: 3 } }]);
});

test('an unexpected engine failure is logged, a NotFound is not an error in the log', async () => {
  server.logger.lines.length = 0;
  await server.request('POST', '/containers/web/kill');
  await server.request('GET', '/containers/nope/json');
  assert.equal(server.logger.lines.filter((l) => l.startsWith('error')).length, 1);
  assert.match(server.logger.lines.find((l) => l.startsWith('error')) ?? '', /boom in the engine/);
});
