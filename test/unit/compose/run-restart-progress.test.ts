import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import {
  completedVerdict, createBody, formatDuration, healthyVerdict, oneOffName, oneOffService, restartDependents, runningVerdict,
} from '../../../src/compose/index.js';
import type { ContainerInspect } from '../../../src/client/index.js';
import { plainProgress, progressMode, renderBlock, TtyProgress } from '../../../src/cli/commands/compose-progress.js';
import { project, service } from '../../support/compose-project.js';

type State = ContainerInspect['State'] & { Health?: { Status: string } };
const state = (over: Partial<State>): State => ({ Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '', FinishedAt: '', ...over } as State);

test('a one-off runs the service with the run options over it: no ports unless asked, no restart policy, no container_name', () => {
  const s = service('app', {
    ports: [{ target: 80, published: '8080', hostIp: null, protocol: 'tcp', mode: 'ingress', name: null, appProtocol: null } as never],
    restart: 'always', containerName: 'fixed', environment: { A: '1', B: '2' }, command: ['serve'],
  });
  const o = oneOffService(s, { service: 'app', command: ['sh', '-c', 'true'], tty: true, interactive: true, env: ['B=x', 'FROM_HOST'], user: 'nobody', entrypoint: '/bin/sh -c' }, { FROM_HOST: 'h' });
  assert.deepEqual(o.ports, []);
  assert.equal(o.restart, 'no');
  assert.equal(o.containerName, null);
  assert.deepEqual(o.environment, { A: '1', B: 'x', FROM_HOST: 'h' });
  assert.deepEqual(o.command, ['sh', '-c', 'true']);
  assert.deepEqual(o.entrypoint, ['/bin/sh', '-c']);
  assert.equal(o.user, 'nobody');
  assert.equal(o.tty, true);
  assert.deepEqual(oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, servicePorts: true }, {}).ports, s.ports);
  assert.deepEqual(oneOffService(s, { service: 'app', command: [], tty: false, interactive: false }, {}).command, ['serve'], 'no command: the service\'s');
  const published = oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, publish: ['127.0.0.1:9000:90'] }, {}).ports;
  assert.deepEqual(published.map((p) => [p.hostIp, p.published, p.target]), [['127.0.0.1', '9000', 90]]);
  assert.throws(() => oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, publish: ['x:y:z:w'] }, {}), /invalid --publish/);
  assert.throws(() => oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, env: ['=v'] }, {}), /invalid environment variable "=v"/);
  assert.throws(() => oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, labels: ['novalue'] }, {}), /label must be set as KEY=VALUE/);
  assert.deepEqual(oneOffService(s, { service: 'app', command: [], tty: false, interactive: false, entrypoint: 'env' }, {}).command, [], '--entrypoint alone clears the command');
  assert.equal(oneOffName('p', 'app', 'abcdef0123456789'.repeat(4)), 'p-app-run-abcdef012345');
  // The body of a one-off keeps the service's restart policy out.
  const { body } = createBody({ project: project('p', [o]), service: o, number: 1, imageId: 'sha256:1', hostEnv: {}, containerOf: () => '', name: 'p-app-run-1' });
  assert.deepEqual((body.HostConfig as Record<string, unknown>).RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
});

test('restart: true follows dependents transitively, and only through restart: true', () => {
  const dep = (restart: boolean) => ({ condition: 'service_started' as const, required: true, restart });
  const all = {
    db: service('db'),
    api: service('api', { dependsOn: { db: dep(true) } }),
    worker: service('worker', { dependsOn: { api: dep(true) } }),
    web: service('web', { dependsOn: { api: dep(false) } }),
    cache: service('cache'),
  };
  assert.deepEqual(restartDependents(all, ['db']), ['api', 'worker']);
  assert.deepEqual(restartDependents(all, ['api']), ['worker']);
  assert.deepEqual(restartDependents(all, ['cache', 'web']), []);
});

test('wait verdicts: healthy, completed successfully, and up --wait\'s running-and-healthy', () => {
  assert.deepEqual(healthyVerdict(state({ Health: { Status: 'healthy' } }), 'p-db-1'), { kind: 'done', status: 'Healthy' });
  assert.deepEqual(healthyVerdict(state({ Health: { Status: 'starting' } }), 'p-db-1'), { kind: 'wait' });
  assert.deepEqual(healthyVerdict(state({}), 'p-db-1'), { kind: 'error', message: 'dependency failed to start: container p-db-1 has no healthcheck configured' });
  assert.deepEqual(healthyVerdict(state({ Health: { Status: 'unhealthy' } }), 'p-db-1'), { kind: 'error', message: 'dependency failed to start: container p-db-1 is unhealthy' });
  assert.deepEqual(healthyVerdict(state({ Running: false, ExitCode: 2, Health: { Status: 'starting' } }), 'p-db-1'), { kind: 'error', message: 'dependency failed to start: container p-db-1 exited (2)' });
  const done = completedVerdict('migrate');
  assert.deepEqual(done(state({})), { kind: 'wait' });
  assert.deepEqual(done(state({ Running: false, Status: 'created' })), { kind: 'wait' });
  assert.deepEqual(done(state({ Running: false, Status: 'exited', ExitCode: 0 })), { kind: 'done', status: 'Exited' });
  assert.deepEqual(done(state({ Running: false, Status: 'exited', ExitCode: 3 })), { kind: 'error', message: 'service "migrate" didn\'t complete successfully: exit 3' });
  assert.deepEqual(runningVerdict(state({}), 'p-web-1'), { kind: 'done', status: 'Healthy' });
  assert.deepEqual(runningVerdict(state({ Health: { Status: 'starting' } }), 'p-web-1'), { kind: 'wait' });
  assert.deepEqual(runningVerdict(state({ Running: false, ExitCode: 1 }), 'p-web-1'), { kind: 'error', message: 'container p-web-1 exited (1)' });
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(1500), '1.5s');
});

test('the progress mode: --progress first, then --ansi, then whether stderr is a terminal', () => {
  assert.equal(progressMode('auto', 'auto', true), 'tty');
  assert.equal(progressMode('auto', 'auto', false), 'plain');
  assert.equal(progressMode('auto', 'never', true), 'plain');
  assert.equal(progressMode('auto', 'always', false), 'tty');
  assert.equal(progressMode('plain', 'always', true), 'plain');
  assert.equal(progressMode('quiet', 'auto', true), 'quiet');
  assert.equal(progressMode('tty', 'auto', false), 'tty');
});

test('the TTY block: a header with done/total, ids padded, a spinner while working, ✔/✘, the time on the right', () => {
  const lines = [
    { id: 'Network p_default', status: 'Created', start: 0, end: 100, error: false },
    { id: 'Container p-web-1', status: 'Starting', start: 0, end: null, error: false },
    { id: 'Container p-db-1', status: 'Error', start: 0, end: 2500, error: true },
  ];
  const block = renderBlock(lines, { width: 50, color: false, now: 1234, frame: 0 });
  assert.deepEqual(block, [
    '[+] Running 2/3',
    ' ✔ Network p_default  Created                0.1s',
    ' ⠋ Container p-web-1  Starting               1.2s',
    ' ✘ Container p-db-1   Error                  2.5s',
  ]);
  for (const l of block.slice(1)) assert.equal(l.length, 49);
  const colored = renderBlock(lines, { width: 50, color: true, now: 1234, frame: 1 });
  assert.equal(colored[1], ' \x1b[32m✔\x1b[0m Network p_default  \x1b[32mCreated\x1b[0m                0.1s');
  assert.ok(colored[2]!.startsWith(' ⠙ Container p-web-1'), 'the spinner turns; working lines are not coloured');
  assert.ok(colored[3]!.includes('\x1b[31m✘\x1b[0m'));
});

test('the TTY display redraws its block in place and prints warnings above it', () => {
  const out = Object.assign(new PassThrough(), { columns: 60 });
  let text = '';
  out.on('data', (b: Buffer) => { text += b.toString(); });
  const p = new TtyProgress(out, { color: false });
  p.event('Container p-web-1', 'Creating');
  p.event('Container p-web-1', 'Created');
  p.warn('something odd');
  p.stop();
  assert.ok(text.includes('\x1b[2A'), 'the second draw moves up over the first block (header + 1 line)');
  assert.ok(text.includes('\x1b[JWARN[0000] something odd\n'), JSON.stringify(text));
  assert.match(text, /\[\+\] Running 1\/1\n\r\x1b\[2K ✔ Container p-web-1  Created +0\.\ds\n$/);
});

test('layers of a pull: indented under their service in the TTY block, not counted; plain prints each change once', () => {
  const block = renderBlock([
    { id: 'web', status: 'Pulling', start: 0, end: null, error: false },
    { id: 'db', status: 'Pulled', start: 0, end: 300, error: false },
    { id: '0123456789ab', status: 'Downloading', start: 0, end: null, error: false, parent: 'web' },
  ], { width: 40, color: false, now: 1000, frame: 2 });
  assert.deepEqual(block, [
    '[+] Running 1/2',
    ' ⠹ web  Pulling                    1.0s',
    '   ⠹ 0123456789ab Downloading      1.0s',
    ' ✔ db   Pulled                     0.3s',
  ]);
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => { text += b.toString(); });
  const p = plainProgress(out, false);
  p.event('web', 'Pulling');
  for (const st of ['Pulling fs layer', 'Downloading', 'Downloading', 'Pull complete']) p.layer!('web', '0123456789ab', st);
  p.event('web', 'Pulled');
  assert.equal(text, ' web  Pulling\n 0123456789ab Pulling fs layer \n 0123456789ab Downloading \n 0123456789ab Pull complete \n web  Pulled\n');
});
