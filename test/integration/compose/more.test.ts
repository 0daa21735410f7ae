/**
 * The second round of `hako compose`, as a user runs it against a real hakod: `run` (one-off
 * containers: dependencies first, exit codes, --rm, -d, ports only with --service-ports, a TTY
 * under a real terminal, `ps -a` and `down` finding them), depends_on `restart: true`, `--wait`
 * and `--wait-timeout` (followed through the engine's events), `up --pull`, `--attach` /
 * `--no-attach`, pulls with and without their layers' progress (`--quiet-pull`) from a registry
 * on 127.0.0.1, and the TTY progress display under script(1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { REPO_ROOT, run, startHakod, type Hakod, type RunResult } from '../../support/hakod.js';
import { screen } from '../../support/terminal-screen.js';
import { createRegistryServer } from '../../../src/registry/index.js';

let h: Hakod;
let dir: string;
const made: string[] = [];

before(async () => {
  h = await startHakod();
  dir = mkdtempSync(join(tmpdir(), 'hako-compose-more-'));
});

after(async () => {
  for (const d of made) await h?.hako(['compose', 'down', '-v', '--remove-orphans', '-t', '0'], { cwd: d, timeoutMs: 30_000 }).catch(() => undefined);
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A project directory with this compose.yaml, removed with `down` after the tests. */
function projectDir(name: string, yaml: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'compose.yaml'), yaml);
  made.push(d);
  return d;
}

function compose(d: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return h.hako(['compose', ...args], { cwd: d, env, timeoutMs: 60_000 });
}

/** `hako compose ARGS` on a pseudo-terminal (stdin and stderr are ttys). */
function composeOnTty(d: string, args: string, env: Record<string, string> = {}): Promise<RunResult> {
  return run('script', ['-qfec', `stty rows 40 cols 100; ${process.execPath} ${join(REPO_ROOT, 'bin/hako')} -H ${h.host} compose ${args}`, '/dev/null'],
    { cwd: d, holdStdin: true, env: { ...(h.env as Record<string, string>), ...env }, timeoutMs: 60_000 });
}

function ok(r: RunResult): RunResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

async function inspect(name: string, format: string): Promise<string> {
  const r = await h.docker(['inspect', '--format', format, name]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

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


const HEALTHY_DB = `  db:
    image: busybox:latest
    command: ["sh", "-c", "touch /ready; exec sleep 600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 200ms
      retries: 20
    stop_grace_period: 0s
`;

test('run: dependencies first, the command\'s exit code, --rm, -e, -d with the one-off name and label, ports only with --service-ports, ps -a and down', async () => {
  const port = await freePort();
  const d = projectDir('runs', `services:
${HEALTHY_DB}  app:
    image: busybox:latest
    command: ["sleep", "600"]
    environment:
      FROM_FILE: file
    ports:
      - "127.0.0.1:${port}:8000"
    depends_on:
      db:
        condition: service_healthy
    stop_grace_period: 0s
`);
  const r = await compose(d, ['run', '--rm', '-e', 'EXTRA=given', 'app', 'sh', '-c', 'echo "$FROM_FILE $EXTRA"; ping -c1 -W2 db >/dev/null && echo reached-db; exit 3']);
  assert.equal(r.code, 3, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, 'file given\nreached-db\n');
  assert.ok(r.stderr.includes(' Container runs-db-1  Started'), r.stderr);
  assert.ok(r.stderr.includes(' Container runs-db-1  Healthy'), r.stderr);
  assert.equal((await h.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True'])).stdout, '', '--rm removed the one-off');
  assert.equal(await inspect('runs-db-1', '{{.State.Running}}'), 'true');

  const detached = ok(await compose(d, ['run', '-d', 'app']));
  assert.match(detached.stdout, /^[0-9a-f]{64}\n$/, 'run -d prints the container id');
  const name = await inspect(detached.stdout.trim(), '{{.Name}}').then((n) => n.replace(/^\//, ''));
  assert.match(name, /^runs-app-run-[0-9a-f]{12}$/);
  assert.equal(await inspect(name, '{{index .Config.Labels "com.docker.compose.oneoff"}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.Running}}'), 'True app true');
  assert.equal(await inspect(name, '{{json .HostConfig.PortBindings}}'), '{}', 'no ports without --service-ports');
  assert.doesNotMatch(ok(await compose(d, ['ps'])).stdout, /run-/, 'ps hides one-off containers');
  assert.match(ok(await compose(d, ['ps', '-a'])).stdout, new RegExp(`${name}\\s`));

  ok(await compose(d, ['run', '-d', '--service-ports', '--name', 'runs-published', 'app']));
  assert.equal(await inspect('runs-published', '{{json .HostConfig.PortBindings}}'), `{"8000/tcp":[{"HostIp":"127.0.0.1","HostPort":"${port}"}]}`);

  const downed = ok(await compose(d, ['down', '-t', '0']));
  assert.ok(downed.stderr.includes(` Container ${name}  Removed`), downed.stderr);
  assert.ok(downed.stderr.includes(' Container runs-published  Removed'), downed.stderr);
  assert.equal((await h.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=runs'])).stdout, '');

  // --no-deps: the one-off alone (and an unknown service is refused).
  assert.equal((await compose(d, ['run', '--rm', '--no-deps', 'app', 'true'])).code, 0);
  assert.equal((await h.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.project=runs'])).stdout, '', 'db was not started');
  const piped = await h.hako(['compose', 'run', '--rm', '--no-deps', '-T', 'app', 'sh', '-c', 'tr a-z A-Z'], { cwd: d, input: 'piped in\n', timeoutMs: 60_000 });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'PIPED IN\n', 'stdin reaches the one-off');
  const unknown = await compose(d, ['run', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no such service: nope/);
});

test('run on a terminal gets a TTY (-T none, a redirected stdin is refused); its exit code is the command\'s', async () => {
  const d = projectDir('runtty', 'services:\n  sh:\n    image: busybox:latest\n    depends_on: [dep]\n  dep:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n');
  const withTty = await composeOnTty(d, 'run --rm sh sh -c "test -t 0 && test -t 1 && echo has-a-tty; exit 5"');
  assert.equal(withTty.code, 5, withTty.stdout);
  // The dependency's progress block is finished before the container's output, which stays last.
  const shown = screen(withTty.stdout).filter((l) => l.trim() !== '');
  assert.ok(shown.some((l) => /^ ✔ Container runtty-dep-1\s+Started\s+\d+\.\ds$/.test(l)), shown.join('\n'));
  assert.equal(shown[shown.length - 1], 'has-a-tty', shown.join('\n'));
  const noTty = await composeOnTty(d, 'run --rm -T sh sh -c "test -t 1 || echo no-tty"');
  assert.equal(noTty.code, 0, noTty.stdout);
  assert.match(noTty.stdout, /no-tty/);
  // stdout a terminal but stdin not: compose's (docker's) refusal, and -T is the way out.
  const redirected = await composeOnTty(d, 'run --rm sh true < /dev/null');
  assert.equal(redirected.code, 1, redirected.stdout);
  assert.match(redirected.stdout, /the input device is not a TTY/);
});

test('depends_on restart: true restarts the dependent when its dependency restarts or is recreated', async () => {
  const d = projectDir('restarts', `services:
${HEALTHY_DB}    environment:
      V: \${V:-1}
  app:
    image: busybox:latest
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
        restart: true
    stop_grace_period: 0s
  other:
    image: busybox:latest
    command: ["sleep", "600"]
    depends_on: [db]
    stop_grace_period: 0s
`);
  ok(await compose(d, ['up', '-d', '--wait']));
  const appStarted = await inspect('restarts-app-1', '{{.State.StartedAt}}');
  const otherStarted = await inspect('restarts-other-1', '{{.State.StartedAt}}');
  const r = ok(await compose(d, ['restart', 'db']));
  assert.ok(r.stderr.includes(' Container restarts-db-1  Restarting'), r.stderr);
  assert.ok(r.stderr.includes(' Container restarts-app-1  Restarting'), r.stderr);
  assert.ok(r.stderr.indexOf(' Container restarts-db-1  Healthy') < r.stderr.indexOf(' Container restarts-app-1  Restarting'), `app restarts once db is healthy again:\n${r.stderr}`);
  assert.ok(!r.stderr.includes('restarts-other-1'), r.stderr);
  assert.notEqual(await inspect('restarts-app-1', '{{.State.StartedAt}}'), appStarted);
  assert.equal(await inspect('restarts-other-1', '{{.State.StartedAt}}'), otherStarted, 'without restart: true, other keeps running');
  const noDeps = ok(await compose(d, ['restart', '--no-deps', 'db']));
  assert.ok(!noDeps.stderr.includes('restarts-app-1'), noDeps.stderr);

  const before2 = await inspect('restarts-app-1', '{{.State.StartedAt}}');
  const up = ok(await compose(d, ['up', '-d'], { V: '2' }));
  assert.ok(up.stderr.includes(' Container restarts-db-1  Recreated'), up.stderr);
  assert.ok(up.stderr.includes(' Container restarts-app-1  Restarting'), up.stderr);
  assert.notEqual(await inspect('restarts-app-1', '{{.State.StartedAt}}'), before2);
  assert.equal(await inspect('restarts-other-1', '{{.State.StartedAt}}'), otherStarted);
});

test('up --wait follows health through events; --wait-timeout fails with compose\'s message; --pull never and missing', async () => {
  const d = projectDir('waits', `services:
${HEALTHY_DB}  slow:
    image: busybox:latest
    command: ["sleep", "600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 30s
      start_period: 60s
    stop_grace_period: 0s
    profiles: [slow]
`);
  const t0 = Date.now();
  const r = ok(await compose(d, ['up', '-d', '--wait', '--pull', 'missing']));
  assert.ok(r.stderr.includes(' Container waits-db-1  Healthy'), r.stderr);
  assert.ok(!r.stderr.includes('Pulling'), 'busybox is there: --pull missing pulls nothing');
  assert.ok(Date.now() - t0 < 20_000);
  const timedOut = await compose(d, ['--profile', 'slow', 'up', '-d', '--wait', '--wait-timeout', '1', 'slow']);
  assert.equal(timedOut.code, 1, timedOut.stderr);
  assert.match(timedOut.stderr, /application not healthy after 1s\n$/);

  const missing = projectDir('pulls', 'services:\n  x:\n    image: hako-test-absent:1\n');
  const never = await compose(missing, ['up', '-d', '--pull', 'never']);
  assert.equal(never.code, 1);
  assert.match(never.stderr, /No such image: hako-test-absent:1 \(pull policy: never\)/);
  const bad = await compose(missing, ['up', '-d', '--pull', 'sometimes']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid --pull option "sometimes"/);
});

test('attached up: --no-attach and --attach choose whose output is shown, --no-log-prefix drops the prefix', async () => {
  const d = projectDir('attaches', `services:
  a:
    image: busybox:latest
    command: ["echo", "from-a"]
  b:
    image: busybox:latest
    command: ["sh", "-c", "sleep 0.3; echo from-b"]
`);
  const r = ok(await compose(d, ['up', '--no-attach', 'b']));
  assert.match(r.stdout, /^Attaching to attaches-a-1\n/);
  assert.ok(r.stdout.includes('attaches-a-1  | from-a\n'), r.stdout);
  assert.ok(!r.stdout.includes('from-b'), r.stdout);
  assert.ok(r.stdout.includes('attaches-b-1 exited with code 0\n'), 'b is still waited for');
  const only = ok(await compose(d, ['up', '--attach', 'b', '--no-log-prefix']));
  assert.match(only.stdout, /^Attaching to attaches-b-1\n/);
  assert.ok(only.stdout.split('\n').includes('from-b'), only.stdout);
  assert.ok(!only.stdout.includes('from-a'), only.stdout);
});

test('on a terminal up shows the TTY progress display; --progress plain, --ansi never and NO_COLOR as compose', async () => {
  const d = projectDir('display', 'services:\n  one:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n  two:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n');
  const r = await composeOnTty(d, 'up -d');
  assert.equal(r.code, 0, r.stdout);
  const shown = screen(r.stdout).filter((l) => l.trim() !== '');
  assert.equal(shown[0], '[+] Running 3/3', r.stdout);
  for (const id of ['Network display_default  Created', 'Container display-one-1  Started', 'Container display-two-1  Started']) {
    assert.ok(shown.some((l) => new RegExp(`^ ✔ ${id.replace(/ +/, '\\s+')}\\s+\\d+\\.\\ds$`).test(l)), `no ✔ line for ${id} in:\n${shown.join('\n')}`);
  }
  assert.ok(r.stdout.includes('\x1b[32m✔'), 'done lines are green on a terminal');
  assert.ok(r.stdout.includes('\x1b[1A') || /\x1b\[\d+A/.test(r.stdout), 'lines are updated in place');

  const noColor = await composeOnTty(d, 'stop', { NO_COLOR: '1' });
  assert.equal(noColor.code, 0, noColor.stdout);
  assert.ok(screen(noColor.stdout).some((l) => /^ ✔ Container display-one-1\s+Stopped\s+\d+\.\ds$/.test(l)), noColor.stdout);
  assert.ok(!noColor.stdout.includes('\x1b[32m'), 'NO_COLOR: no colours');

  for (const [flags, cmd, status] of [['--progress plain', 'start', 'Started'], ['--ansi never', 'stop', 'Stopped']] as const) {
    const plain = await composeOnTty(d, `${flags} ${cmd}`);
    assert.equal(plain.code, 0, plain.stdout);
    assert.ok(plain.stdout.includes(` Container display-one-1  ${status}\r\n`), `${flags}: ${plain.stdout}`);
    assert.ok(!plain.stdout.includes('[+]') && !plain.stdout.includes('\x1b['), `${flags}: ${JSON.stringify(plain.stdout)}`);
  }
  const quiet = await composeOnTty(d, '--progress quiet start');
  assert.equal(quiet.code, 0);
  assert.equal(await inspect('display-one-1', '{{.State.Running}}'), 'true');
  assert.equal(quiet.stdout, '');
});

test('up pulls a missing image with its layers\' progress (plain and on a terminal); --quiet-pull without', async () => {
  const { server } = await createRegistryServer({ root: join(dir, 'registry'), log: () => undefined });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const ref = `127.0.0.1:${(server.address() as AddressInfo).port}/hk/bb:1`;
    ok(await h.docker(['tag', 'busybox:latest', ref]));
    ok(await h.docker(['push', ref]));
    ok(await h.docker(['rmi', ref]));
    const d = projectDir('pulling', `services:\n  x:\n    image: ${ref}\n    command: ["sleep", "600"]\n    stop_grace_period: 0s\n`);
    const layerLine = /^ [0-9a-f]{12} (Pull complete|Already exists) $/m;
    const plain = ok(await compose(d, ['up', '-d']));
    assert.ok(plain.stderr.includes(' x  Pulling\n') && plain.stderr.includes(' x  Pulled\n'), plain.stderr);
    assert.match(plain.stderr, layerLine);
    ok(await compose(d, ['down', '-t', '0']));
    ok(await h.docker(['rmi', ref]));
    const quiet = ok(await compose(d, ['up', '-d', '--quiet-pull']));
    assert.ok(quiet.stderr.includes(' x  Pulled\n'), quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /^ [0-9a-f]{12} /m, '--quiet-pull: no layer lines');
    const tty = await composeOnTty(d, 'up -d --pull always');
    assert.equal(tty.code, 0, tty.stdout);
    const shown = screen(tty.stdout);
    assert.ok(shown.some((l) => /^ ✔ x\s+Pulled\s+\d+\.\ds$/.test(l)), shown.join('\n'));
    assert.ok(shown.some((l) => /^ {3}✔ [0-9a-f]{12} (Pull complete|Already exists)\s+\d+\.\ds$/.test(l)), `a layer line under the service:\n${shown.join('\n')}`);
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
});
