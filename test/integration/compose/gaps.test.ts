/**
 * Compose gaps closed in round three, against a real hakod: secrets and configs from
 * `environment:` and `content:` written into the container with their mode/uid/gid, `compose
 * version`, `network_mode: service:x` joiners recreated with x, `run --cap-add/--env-from-file`,
 * and `up --attach-dependencies`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHakod, type Hakod, type RunResult } from '../../support/hakod.js';

let h: Hakod;
let dir: string;
const made: string[] = [];

before(async () => {
  h = await startHakod();
  dir = mkdtempSync(join(tmpdir(), 'hako-compose-gaps-'));
});

after(async () => {
  for (const d of made) await h?.hako(['compose', 'down', '-v', '--remove-orphans', '-t', '0'], { cwd: d, timeoutMs: 30_000 }).catch(() => undefined);
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A project directory with these files, removed with `down` after the tests. */
function projectDir(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const [p, text] of Object.entries(files)) writeFileSync(join(d, p), text);
  made.push(d);
  return d;
}

function compose(d: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return h.hako(['compose', ...args], { cwd: d, env, timeoutMs: 60_000 });
}

function ok(r: RunResult): RunResult {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

test('secrets from environment and configs from content are files in the container, with mode, uid and gid', async () => {
  const d = projectDir('sec', {
    'compose.yaml': [
      'services:',
      '  app:',
      '    image: busybox:latest',
      '    command: ["sleep", "600"]',
      '    secrets:',
      '      - token',
      '      - source: token',
      '        target: /etc/app/token',
      '        mode: "0400"',
      '        uid: "1000"',
      '        gid: "2000"',
      '    configs:',
      '      - source: conf',
      '        target: /etc/app.conf',
      '      - conf',
      '      - source: file',
      '        target: /etc/owned',
      '        uid: "1000"',
      '        mode: "0600"',
      'secrets:',
      '  token:',
      '    environment: APP_TOKEN',
      'configs:',
      '  conf:',
      '    content: |',
      '      greeting=${GREETING}',
      '  file:',
      '    file: ./owned.txt',
      '',
    ].join('\n'),
    'owned.txt': 'mine\n',
    '.env': 'GREETING=hello from .env\n',
  });
  ok(await compose(d, ['up', '-d'], { APP_TOKEN: 's3cret' }));
  const sh = async (cmd: string): Promise<string> => ok(await compose(d, ['exec', '-T', 'app', 'sh', '-c', cmd])).stdout;
  assert.equal(await sh('cat /run/secrets/token'), 's3cret');
  assert.equal(await sh('stat -c "%a %u %g" /run/secrets/token /etc/app/token'), '444 0 0\n400 1000 2000\n');
  assert.equal(await sh('cat /etc/app.conf /conf'), 'greeting=hello from .env\ngreeting=hello from .env\n');
  assert.equal(await sh('stat -c "%a %u %g" /etc/owned; cat /etc/owned'), '600 1000 0\nmine\n');
  // A one-off gets them too; an unset variable is refused before anything is made.
  assert.equal(ok(await compose(d, ['run', '--rm', '-T', 'app', 'cat', '/etc/app/token'], { APP_TOKEN: 's3cret' })).stdout, 's3cret');
  const r = await compose(d, ['up', '-d']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /environment variable "APP_TOKEN" required by secret "token" is not set/);
});

test('compose version: the plugin\'s implementation, naming hako compose; --short and --format json', async () => {
  const d = projectDir('ver', {});
  const pretty = ok(await compose(d, ['version'])).stdout;
  assert.match(pretty, /^hako compose version v\d+\.\d+\.\d+\S*\n$/);
  const v = /version v(\S+)/.exec(pretty)![1]!;
  assert.equal(ok(await compose(d, ['version', '--short'])).stdout, `${v}\n`);
  assert.deepEqual(JSON.parse(ok(await compose(d, ['version', '--format', 'json'])).stdout), { version: `v${v}` });
  const bad = await compose(d, ['version', '--format', 'xml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Invalid format "xml"/);
});

test('network_mode: service:x and volumes_from: x joiners are recreated when x is, and join the new x', async () => {
  const yaml = (tag: string): string => [
    'services:',
    '  x:',
    '    image: busybox:latest',
    `    command: ["sh", "-c", "echo ${tag} > /shared/tag; exec sleep 600"]`,
    '    volumes: ["/shared"]',
    '  net:',
    '    image: busybox:latest',
    '    command: ["sleep", "600"]',
    '    network_mode: service:x',
    '  vol:',
    '    image: busybox:latest',
    '    command: ["sleep", "600"]',
    '    volumes_from: [x]',
    '  other:',
    '    image: busybox:latest',
    '    command: ["sleep", "600"]',
    '',
  ].join('\n');
  const d = projectDir('join', { 'compose.yaml': yaml('one') });
  ok(await compose(d, ['up', '-d', '-t', '0']));
  const ids = async (): Promise<Record<string, string>> => {
    const out = ok(await h.docker(['ps', '--filter', 'label=com.docker.compose.project=join', '--format', '{{.Label "com.docker.compose.service"}} {{.ID}}'])).stdout;
    return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  };
  const before = await ids();
  // An unchanged `up` keeps every container.
  ok(await compose(d, ['up', '-d', '-t', '0']));
  assert.deepEqual(await ids(), before);
  writeFileSync(join(d, 'compose.yaml'), yaml('two'));
  const r = ok(await compose(d, ['up', '-d', '-t', '0']));
  assert.match(r.stderr, /Container join-net-1 +Recreate/);
  assert.match(r.stderr, /Container join-vol-1 +Recreate/);
  const after = await ids();
  assert.notEqual(after.x, before.x);
  assert.notEqual(after.net, before.net);
  assert.notEqual(after.vol, before.vol);
  assert.equal(after.other, before.other);
  const netMode = ok(await h.docker(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'join-net-1'])).stdout.trim();
  assert.match(netMode, new RegExp(`^container:${after.x}`));
  assert.equal(ok(await compose(d, ['exec', '-T', 'vol', 'cat', '/shared/tag'])).stdout, 'two\n');
});

test('run --cap-add/--cap-drop, --env-from-file, --pull never and --remove-orphans', async () => {
  const d = projectDir('runf', {
    'compose.yaml': 'services:\n  a:\n    image: busybox:latest\n    environment:\n      FROM_SVC: svc\n  gone:\n    image: busybox:latest\n    command: ["sleep", "600"]\n    stop_signal: SIGKILL\n',
    'run.env': 'FROM_FILE=file\nFROM_SVC=file\n',
  });
  // CapEff bit 25 is CAP_SYS_TIME (not in the default set); bit 0 CAP_CHOWN (in it).
  const caps = ok(await compose(d, ['run', '--rm', '-T', '--cap-add', 'SYS_TIME', '--cap-drop', 'CHOWN', 'a', 'sh', '-c', 'grep CapEff /proc/self/status'])).stdout;
  const eff = BigInt(`0x${caps.trim().split(/\s+/)[1]}`);
  assert.equal((eff >> 25n) & 1n, 1n);
  assert.equal(eff & 1n, 0n);
  const env = ok(await compose(d, ['run', '--rm', '-T', '--env-from-file', 'run.env', '-e', 'FROM_FLAG=flag', 'a', 'sh', '-c', 'echo $FROM_SVC $FROM_FILE $FROM_FLAG'])).stdout;
  assert.equal(env, 'file file flag\n');
  const pull = await compose(d, ['run', '--rm', '-T', '--pull', 'sometimes', 'a', 'true']);
  assert.equal(pull.code, 1);
  assert.match(pull.stderr, /invalid --pull option "sometimes"/);
  ok(await compose(d, ['run', '--rm', '-T', '--pull', 'never', 'a', 'true']));
  // `gone` leaves the file: run --remove-orphans removes its container.
  ok(await compose(d, ['up', '-d', 'gone']));
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  a:\n    image: busybox:latest\n');
  ok(await compose(d, ['run', '--rm', '-T', '--remove-orphans', 'a', 'true']));
  assert.equal(ok(await h.docker(['ps', '-a', '--filter', 'name=runf-gone-1', '--format', '{{.Names}}'])).stdout, '');
});

test('up SERVICE attaches to that service only; --attach-dependencies to its dependencies too', async () => {
  const d = projectDir('attdep', {
    'compose.yaml': [
      'services:',
      '  dep:',
      '    image: busybox:latest',
      '    command: ["sh", "-c", "echo dep-says-hi; exec sleep 600"]',
      '  app:',
      '    image: busybox:latest',
      '    command: ["sh", "-c", "sleep 1; echo app-says-hi"]',
      '    depends_on: [dep]',
      '',
    ].join('\n'),
  });
  const only = ok(await compose(d, ['up', '-t', '0', '--abort-on-container-exit', 'app']));
  assert.match(only.stdout, /Attaching to attdep-app-1\n/);
  assert.match(only.stdout, /app-says-hi/);
  assert.doesNotMatch(only.stdout, /dep-says-hi/);
  const both = ok(await compose(d, ['up', '-t', '0', '--attach-dependencies', '--abort-on-container-exit', 'app']));
  assert.match(both.stdout, /Attaching to attdep-app-1, attdep-dep-1\n|Attaching to attdep-dep-1, attdep-app-1\n/);
  assert.match(both.stdout, /dep-says-hi/);
  const bad = await compose(d, ['up', '--attach-dependencies', '--attach', 'dep', 'app']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--attach-dependencies and --attach are incompatible/);
});
