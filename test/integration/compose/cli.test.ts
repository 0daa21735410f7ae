/**
 * `hako compose` as a user runs it, against a real hakod: a compose.yaml with a web service built
 * from a Dockerfile FROM busybox and a client reaching it by name; up -d (twice, then with a
 * changed environment), ps, logs, exec, stop/start/restart, down -v; `up` attached; a failing
 * depends_on condition; and the real docker CLI listing the project's containers by label.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { REPO_ROOT, startHakod, type Hakod, type RunResult } from '../../support/hakod.js';

let h: Hakod;
let dir: string;
let port: number;
const made: Array<{ name: string; cwd: string }> = [];

const COMPOSE = `services:
  web:
    build: .
    ports:
      - "127.0.0.1:\${WEB_PORT}:8000"
    healthcheck:
      test: ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:8000/"]
      interval: 200ms
      retries: 20
    stop_grace_period: 1s
  client:
    image: busybox:latest
    command: sh -c 'timeout 5 wget -qO- http://web:8000/ && echo "GREETING=$$GREETING" && exec sleep 3600'
    environment:
      GREETING: \${GREETING:-one}
    depends_on:
      web:
        condition: service_healthy
    volumes:
      - data:/data
    stop_grace_period: 1s
volumes:
  data:
`;

before(async () => {
  h = await startHakod();
  dir = mkdtempSync(join(tmpdir(), 'hako-compose-cli-'));
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nRUN mkdir -p /www && echo hello-from-web > /www/index.html\nCMD ["httpd", "-f", "-p", "8000", "-h", "/www"]\n');
  port = await freePort();
});

after(async () => {
  for (const p of made) await h?.hako(['compose', '-p', p.name, 'down', '-v', '--remove-orphans', '-t', '0'], { cwd: p.cwd, timeoutMs: 30_000 }).catch(() => undefined);
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

function httpGet(p: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function compose(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<RunResult> {
  return h.hako(['compose', ...args], { cwd, env: { WEB_PORT: String(port), ...env }, timeoutMs: 60_000 });
}

function ok(r: RunResult): RunResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

async function until(what: () => Promise<boolean>, message: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(message);
}

test('up -d, ps, logs, exec, a second up, a changed environment, stop/start/restart and down -v', async () => {
  made.push({ name: 'hkcli', cwd: dir });
  const first = ok(await compose(['-p', 'hkcli', 'up', '-d']));
  for (const line of [
    ' Network hkcli_default  Creating', ' Network hkcli_default  Created', ' Volume "hkcli_data"  Created',
    ' Container hkcli-web-1  Created', ' Container hkcli-client-1  Created', ' Container hkcli-web-1  Started',
    ' Container hkcli-web-1  Healthy', ' Container hkcli-client-1  Started',
  ]) assert.ok(first.stderr.split('\n').includes(line), `missing ${JSON.stringify(line)} in:\n${first.stderr}`);
  assert.equal(first.stdout, '');
  assert.equal(await httpGet(port), 'hello-from-web\n');

  const ps = ok(await compose(['-p', 'hkcli', 'ps']));
  const lines = ps.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
  assert.match(ps.stdout, /hkcli-client-1\s+busybox:latest\s+"sh -c 'timeout 5 wg…"\s+client\s+.* ago\s+Up /);
  assert.match(ps.stdout, new RegExp(`hkcli-web-1\\s+hkcli-web\\s+.*web\\s+.*Up .*\\(healthy\\)\\s+127\\.0\\.0\\.1:${port}->8000/tcp`));
  assert.deepEqual(ok(await compose(['-p', 'hkcli', 'ps', '--services'])).stdout.split('\n').filter(Boolean).sort(), ['client', 'web']);
  assert.equal(ok(await compose(['-p', 'hkcli', 'ps', '-q'])).stdout.trim().split('\n').length, 2);
  const json = ok(await compose(['-p', 'hkcli', 'ps', '--format', 'json', 'web'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(json.length, 1);
  assert.equal(json[0]?.Name, 'hkcli-web-1');
  assert.equal(json[0]?.Service, 'web');
  assert.equal(json[0]?.Project, 'hkcli');
  assert.equal(json[0]?.State, 'running');
  assert.equal(json[0]?.Health, 'healthy');

  assert.equal(ok(await compose(['-p', 'hkcli', 'port', 'web', '8000'])).stdout, `127.0.0.1:${port}\n`);
  const ls = ok(await compose(['ls'])).stdout;
  assert.match(ls, /^NAME\s+STATUS\s+CONFIG FILES\n/);
  assert.ok(ls.split('\n').some((l) => /^hkcli\s+running\(2\)\s+/.test(l) && l.endsWith(join(dir, 'compose.yaml'))), ls);
  const paused = ok(await compose(['-p', 'hkcli', 'pause', 'web']));
  assert.ok(paused.stderr.includes(' Container hkcli-web-1  Paused'), paused.stderr);
  assert.match(ok(await compose(['-p', 'hkcli', 'ps', 'web'])).stdout, /Paused/);
  ok(await compose(['-p', 'hkcli', 'unpause', 'web']));
  assert.equal(await httpGet(port), 'hello-from-web\n');

  await until(async () => (await compose(['-p', 'hkcli', 'logs', 'client'])).stdout.includes('GREETING=one'), 'the client never printed its greeting');
  const logs = ok(await compose(['-p', 'hkcli', 'logs', 'client']));
  assert.equal(logs.stdout, 'hkcli-client-1  | hello-from-web\nhkcli-client-1  | GREETING=one\n');
  assert.equal(ok(await compose(['-p', 'hkcli', 'logs', '--no-log-prefix', 'client'])).stdout, 'hello-from-web\nGREETING=one\n');

  const exec = ok(await compose(['-p', 'hkcli', 'exec', '-T', 'client', 'sh', '-c', 'timeout 5 wget -qO- http://web:8000/']));
  assert.equal(exec.stdout, 'hello-from-web\n');
  const code = await compose(['-p', 'hkcli', 'exec', '-T', 'client', 'sh', '-c', 'exit 7']);
  assert.equal(code.code, 7);

  // The real docker CLI finds the project's containers by compose's label.
  const dps = await h.docker(['ps', '--filter', 'label=com.docker.compose.project=hkcli', '--format', '{{.Names}}']);
  assert.equal(dps.code, 0, dps.stderr);
  assert.deepEqual(dps.stdout.trim().split('\n').sort(), ['hkcli-client-1', 'hkcli-web-1']);

  const again = ok(await compose(['-p', 'hkcli', 'up', '-d']));
  assert.ok(!/Creat|Recreat|Start/.test(again.stderr), again.stderr);
  assert.ok(again.stderr.includes(' Container hkcli-web-1  Running'));

  const changed = ok(await compose(['-p', 'hkcli', 'up', '-d'], { GREETING: 'two' }));
  assert.ok(changed.stderr.includes(' Container hkcli-client-1  Recreated'), changed.stderr);
  assert.ok(!changed.stderr.includes('hkcli-web-1  Recreate'), changed.stderr);
  await until(async () => (await compose(['-p', 'hkcli', 'logs', 'client'])).stdout.includes('GREETING=two'), 'the recreated client did not greet with the new value');

  const stopped = ok(await compose(['-p', 'hkcli', 'stop']));
  assert.ok(stopped.stderr.includes(' Container hkcli-client-1  Stopped'));
  assert.equal(ok(await compose(['-p', 'hkcli', 'ps'])).stdout.trim().split('\n').length, 1, 'only the header: ps shows running containers');
  assert.match(ok(await compose(['-p', 'hkcli', 'ps', '-a'])).stdout, /hkcli-web-1 .*Exited/);
  ok(await compose(['-p', 'hkcli', 'start']));
  ok(await compose(['-p', 'hkcli', 'restart', 'web', '-t', '1']));
  await until(async () => (await httpGet(port).catch(() => '')) === 'hello-from-web\n', 'web did not answer after restart');

  // Without its compose file, -p names the project: ps and down find it by label (networks and volumes too).
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  assert.match(ok(await compose(['-p', 'hkcli', 'ps'], {}, elsewhere)).stdout, /hkcli-web-1/);
  const downed = ok(await compose(['-p', 'hkcli', 'down', '-v'], {}, elsewhere));
  for (const line of [' Container hkcli-client-1  Removed', ' Container hkcli-web-1  Removed', ' Network hkcli_default  Removed', ' Volume hkcli_data  Removed']) {
    assert.ok(downed.stderr.split('\n').includes(line), `missing ${JSON.stringify(line)} in:\n${downed.stderr}`);
  }
  assert.equal((await h.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=hkcli'])).stdout, '');
  assert.doesNotMatch((await h.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout, /hkcli/);
  assert.doesNotMatch((await h.docker(['volume', 'ls', '--format', '{{.Name}}'])).stdout, /hkcli/);
});

test('up without -d prints the containers\' output with prefixes and returns when they exit', async () => {
  const d = join(dir, 'attached');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  hello:\n    image: busybox:latest\n    command: ["sh", "-c", "echo hi from hello; echo oops >&2"]\n');
  made.push({ name: 'attached', cwd: d });
  const created = ok(await compose(['create'], {}, d));
  assert.ok(created.stderr.includes(' Container attached-hello-1  Created'), created.stderr);
  assert.match(ok(await compose(['ps', '-a'], {}, d)).stdout, /attached-hello-1 .*Created/);
  const r = ok(await compose(['up'], {}, d));
  assert.match(r.stdout, /^Attaching to attached-hello-1\n/);
  assert.ok(r.stdout.includes('attached-hello-1  | hi from hello\n'), r.stdout);
  assert.ok(r.stdout.includes('attached-hello-1 exited with code 0\n'), r.stdout);
  assert.ok(r.stderr.includes('attached-hello-1  | oops\n'), r.stderr);
  ok(await compose(['down'], {}, d));
});

test('a depends_on condition that fails makes up fail with compose\'s message', async () => {
  const d = join(dir, 'failing');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), `services:
  migrate:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
  app:
    image: busybox:latest
    command: ["sleep", "60"]
    depends_on:
      migrate:
        condition: service_completed_successfully
`);
  made.push({ name: 'failing', cwd: d });
  const r = await compose(['up', '-d'], {}, d);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /service "migrate" didn't complete successfully: exit 3\n$/);
  assert.ok(r.stderr.includes(' Container failing-migrate-1  Error'), r.stderr);
  ok(await compose(['down'], {}, d));
});

test('a cycle in depends_on and an unknown service are refused before anything is made', async () => {
  const d = join(dir, 'cycle');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  a:\n    image: busybox:latest\n    depends_on: [b]\n  b:\n    image: busybox:latest\n    depends_on: [a]\n');
  const r = await compose(['up', '-d'], {}, d);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /dependency cycle detected: a -> b -> a/);
  assert.doesNotMatch((await h.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout, /cycle_default/);
  const unknown = await compose(['-p', 'hkcli', 'logs', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such service: nope/);
  // Bad flags of a valid project are refused before the engine is touched, too.
  const v = join(dir, 'refused');
  mkdirSync(v);
  writeFileSync(join(v, 'compose.yaml'), 'services:\n  a:\n    image: busybox:latest\n    command: sleep 3600\n');
  const refusals = [
    [['up', '--exit-code-from', 'nope'], /no such service: nope/],
    [['up', '--scale', 'a='], /invalid --scale "a=": use SERVICE=NUM/],
    [['up', '-d', '--build', '--no-build'], /--build and --no-build are incompatible/],
    [['create', '--force-recreate', '--no-recreate'], /--force-recreate and --no-recreate are incompatible/],
  ] as const;
  for (const [args, re] of refusals) {
    const r2 = await compose([...args], {}, v);
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stderr, re);
  }
  assert.doesNotMatch((await h.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout, /refused_default/);
});

test('Ctrl-C stops an attached up gracefully: the containers are stopped, not removed', async () => {
  const d = join(dir, 'interrupted');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  ticker:\n    image: busybox:latest\n    command: ["sh", "-c", "echo ready; exec sleep 600"]\n    stop_grace_period: 1s\n');
  made.push({ name: 'interrupted', cwd: d });
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/hako'), '-H', h.host, 'compose', 'up'], { cwd: d, env: { ...process.env, DOCKER_CONFIG: join(h.root, 'docker-config') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output in time\nstdout: ${stdout}\nstderr: ${stderr}`)), 30_000);
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (stdout.includes('interrupted-ticker-1  | ready')) { clearTimeout(timer); resolve(); }
      });
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    });
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, `stdout: ${stdout}\nstderr: ${stderr}`);
    assert.ok(stderr.includes('Gracefully stopping... (press Ctrl+C again to force)'), stderr);
    assert.ok(stderr.includes(' Container interrupted-ticker-1  Stopped'), stderr);
    assert.match(ok(await compose(['ps', '-a'], {}, d)).stdout, /interrupted-ticker-1 .*Exited/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  ok(await compose(['down'], {}, d));
});

test('build, up --build after a change recreates the service, config --services, kill, rm -s -f, down --rmi local', async () => {
  const d = join(dir, 'builds');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  app:\n    build: .\n    command: ["sh", "-c", "cat /version; exec sleep 600"]\n    stop_grace_period: 0s\n  side:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n');
  writeFileSync(join(d, 'Dockerfile'), 'FROM busybox:latest\nRUN echo v1 > /version\n');
  made.push({ name: 'builds', cwd: d });
  const built = ok(await compose(['build'], {}, d));
  assert.ok(built.stderr.includes(' Service app  Built'), built.stderr);
  assert.equal((await h.docker(['image', 'inspect', '--format', '{{.Id}}', 'builds-app'])).code, 0);
  assert.deepEqual(ok(await compose(['config', '--services'], {}, d)).stdout.split('\n').filter(Boolean).sort(), ['app', 'side']);

  ok(await compose(['up', '-d'], {}, d));
  await until(async () => (await compose(['logs', 'app'], {}, d)).stdout.includes('v1'), 'app did not print v1');
  writeFileSync(join(d, 'Dockerfile'), 'FROM busybox:latest\nRUN echo v2 > /version\n');
  const rebuilt = ok(await compose(['up', '-d', '--build'], {}, d));
  assert.ok(rebuilt.stderr.includes(' Container builds-app-1  Recreated'), rebuilt.stderr);
  assert.ok(rebuilt.stderr.includes(' Container builds-side-1  Running'), rebuilt.stderr);
  await until(async () => (await compose(['logs', 'app'], {}, d)).stdout.includes('v2'), 'the recreated app did not print v2');

  const killed = ok(await compose(['kill', 'side'], {}, d));
  assert.ok(killed.stderr.includes(' Container builds-side-1  Killed'), killed.stderr);
  const removed = ok(await compose(['rm', '-s', '-f', 'app'], {}, d));
  assert.ok(removed.stderr.includes(' Container builds-app-1  Removed'), removed.stderr);
  assert.deepEqual(ok(await compose(['ps', '-a', '--services'], {}, d)).stdout.trim(), 'side');

  const downed = ok(await compose(['down', '--rmi', 'local'], {}, d));
  assert.ok(downed.stderr.includes(' Image builds-app  Removed'), downed.stderr);
  assert.notEqual((await h.docker(['image', 'inspect', 'builds-app'])).code, 0);
  assert.equal((await h.docker(['image', 'inspect', 'busybox:latest'])).code, 0, 'busybox is not a local image of the project');
});

test('up --abort-on-container-exit stops the others when one exits and returns its code', async () => {
  const d = join(dir, 'aborting');
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  short:\n    image: busybox:latest\n    command: ["sh", "-c", "sleep 0.5; echo bye; exit 4"]\n  long:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n');
  made.push({ name: 'aborting', cwd: d });
  const r = await compose(['up', '--abort-on-container-exit'], {}, d);
  assert.equal(r.code, 4, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.ok(r.stdout.includes('aborting-short-1  | bye\n'), r.stdout);
  assert.ok(r.stdout.includes('aborting-short-1 exited with code 4\nAborting on container exit...\n'), r.stdout);
  assert.ok(r.stderr.includes(' Container aborting-long-1  Stopped'), r.stderr);
  assert.match(ok(await compose(['ps', '-a', 'long'], {}, d)).stdout, /aborting-long-1 .*Exited/);
  // --exit-code-from: the code of that service's container (long was stopped: 137 by SIGKILL after 0s grace).
  const from = await compose(['up', '--exit-code-from', 'long'], {}, d);
  assert.equal(from.code, 137, `stdout: ${from.stdout}\nstderr: ${from.stderr}`);
  ok(await compose(['down'], {}, d));
});
