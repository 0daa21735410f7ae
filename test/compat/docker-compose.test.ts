/**
 * Debian's docker-compose (1.29, Python, on docker-py) against hakod, unchanged: the project of the
 * user's notes — a web service built from a Dockerfile with a published port, a bind mount and an
 * environment naming its dependency, a second service on a named volume — through up --build, ps,
 * logs, exec, restart, stop/start and down -v. The build goes through docker-py's build API
 * (COMPOSE_DOCKER_CLI_BUILD=0), so this also covers docker-py's calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHakod, type Hakod, type RunOptions } from '../support/hakod.js';
import { freePort, httpGet } from '../support/network-cli.js';
import { ok } from './expect.js';

let d: Hakod;
let dir: string;
let port: number;

const PROJECT = 'dcv1';

before(async () => {
  d = await startHakod();
  port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'hako-compat-compose-'));
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nWORKDIR /app\nCOPY index.html /app/\nEXPOSE 8000\nCMD ["httpd", "-f", "-p", "8000", "-h", "/app"]\n');
  writeFileSync(join(dir, 'index.html'), 'built into the image\n');
  writeFileSync(join(dir, 'mounted.html'), 'from the bind mount\n');
  writeFileSync(join(dir, 'docker-compose.yml'), `version: '3.8'
services:
  web:
    build: .
    ports:
      - "127.0.0.1:${port}:8000"
    environment:
      - REDIS_HOST=cache
    depends_on:
      - cache
    volumes:
      - ./mounted.html:/app/mounted.html
    init: true
  cache:
    image: busybox
    command: sh -c 'echo ready; exec sleep 3600'
    init: true
    volumes:
      - data:/data
volumes:
  data:
`);
});

after(async () => {
  try {
    await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
    await d?.stop();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

function compose(args: string[], opts: RunOptions = {}) {
  return d.shell(`docker-compose -p ${PROJECT} ${args.map((a) => `'${a}'`).join(' ')}`, {
    cwd: dir, timeoutMs: 120_000, ...opts, env: { COMPOSE_DOCKER_CLI_BUILD: '0', ...opts.env },
  });
}

test('docker-compose up --build, ps, logs, exec, restart, stop/start and down -v against hakod', async () => {
  ok(await compose(['up', '-d', '--build']), d);
  const ps = ok(await compose(['ps']), d);
  assert.match(ps, new RegExp(`${PROJECT}_web_1 .* Up .*127\\.0\\.0\\.1:${port}->8000/tcp`), ps);
  assert.match(ps, new RegExp(`${PROJECT}_cache_1 .* Up`), ps);

  assert.equal(await httpGet(port, '/index.html', 50), 'built into the image\n');
  assert.equal(await httpGet(port, '/mounted.html'), 'from the bind mount\n');
  assert.match(ok(await compose(['logs', '--no-color', 'cache']), d), /cache_1 +\| ready/);

  // The dependency is reached by its service name; the environment names it.
  const inWeb = ok(await compose(['exec', '-T', 'web', 'sh', '-c', 'echo "$REDIS_HOST"; ping -c 1 -W 2 cache >/dev/null && echo reached']), d);
  assert.equal(inWeb, 'cache\nreached\n');
  ok(await compose(['exec', '-T', 'cache', 'sh', '-c', 'echo kept > /data/f']), d);

  ok(await compose(['restart', 'web']), d);
  assert.equal(await httpGet(port, '/index.html', 50), 'built into the image\n');
  ok(await compose(['stop']), d);
  assert.match(ok(await compose(['ps']), d), /Exit /);
  ok(await compose(['start']), d);
  assert.equal(ok(await compose(['exec', '-T', 'cache', 'cat', '/data/f']), d), 'kept\n');

  ok(await compose(['down', '-v']), d);
  assert.equal(ok(await d.docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`]), d), '');
  assert.doesNotMatch(ok(await d.docker(['network', 'ls', '--format', '{{.Name}}']), d), new RegExp(`${PROJECT}_default`));
  assert.doesNotMatch(ok(await d.docker(['volume', 'ls', '--format', '{{.Name}}']), d), new RegExp(`${PROJECT}_data`));
});
