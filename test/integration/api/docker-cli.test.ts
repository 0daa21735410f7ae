/**
 * The real docker CLI against hakod's HTTP layer over an in-test engine: proves that docker's own
 * client negotiates the version, hijacks attach/exec, waits before start, demultiplexes frames
 * and prints errors as it does against dockerd. Needs the docker client, not root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import type { OutputChunk, StdioSession } from '../../../src/engine/contract.js';
import { NotFound } from '../../../src/errdefs/index.js';
import { startServer, type TestServer } from '../../unit/api/support.js';

const DOCKER = '/usr/local/bin/docker';
const ID = 'c0ffee'.padEnd(64, '0');
const skip = existsSync(DOCKER) ? false : 'the docker client is not installed';

let server: TestServer;
let configDir: string;
const calls: string[] = [];

/** A pretend container: attach gets its output, start runs it, wait reports its exit. */
function pretendContainer() {
  const output = new PassThrough({ objectMode: true });
  let exited: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => { exited = resolve; });
  return {
    session(): StdioSession {
      return { tty: false, output: output as unknown as AsyncIterable<OutputChunk>, input: null, close: () => output.end() };
    },
    start() {
      output.write({ stream: 'stdout', data: Buffer.from('hello from hako\n') });
      output.write({ stream: 'stderr', data: Buffer.from('a warning\n') });
      output.end();
      setTimeout(() => exited(3), 20);
    },
    exit,
  };
}

let container = pretendContainer();

before(async () => {
  configDir = await mkdtemp(path.join(os.tmpdir(), 'hako-docker-config-'));
  server = await startServer({
    system: { version: () => ({ Version: '0.1.0', Os: 'linux', Arch: 'amd64', GoVersion: 'n/a', GitCommit: 'test', KernelVersion: os.release(), Components: [] }) },
    containers: {
      async create(body) {
        calls.push(`create ${String(body.Image)}`);
        container = pretendContainer();
        return { Id: ID, Warnings: [] };
      },
      async attach() {
        calls.push('attach');
        return container.session();
      },
      async wait(_ref, condition) {
        calls.push(`wait ${condition}`);
        return { StatusCode: await container.exit };
      },
      async start() {
        calls.push('start');
        container.start();
      },
      async inspect(ref) {
        if (ref === 'web') return { Id: ID, Name: '/web', State: { Running: true, Status: 'running' }, Config: { Tty: false } };
        throw new NotFound(`No such container: ${ref}`);
      },
    },
    exec: {
      async create(ref, body) {
        calls.push(`exec create ${ref} ${JSON.stringify(body.Cmd)}`);
        return { Id: 'e1' };
      },
      async start() {
        // An "exec" that upper-cases its stdin and exits when stdin closes.
        const input = new PassThrough();
        const output = new PassThrough({ objectMode: true });
        input.on('data', (d: Buffer) => output.write({ stream: 'stdout', data: Buffer.from(d.toString().toUpperCase()) }));
        input.on('end', () => output.end());
        return { tty: false, input, output: output as unknown as AsyncIterable<OutputChunk>, close: () => output.end() };
      },
      async inspect() {
        return { ID: 'e1', Running: false, ExitCode: 0 };
      },
    },
  });
});

after(async () => {
  await server?.close();
  await rm(configDir, { recursive: true, force: true });
});

function docker(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${server.socketPath}`, DOCKER_CONFIG: configDir }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(stdin);
  });
}

test('docker version negotiates API 1.47 with hakod', { skip }, async () => {
  const r = await docker(['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1.47 1.47');
});

test('docker run prints the container output on the right streams and exits with its code', { skip }, async () => {
  calls.length = 0;
  const r = await docker(['run', 'busybox', 'echo', 'hi']);
  assert.equal(r.stdout, 'hello from hako\n');
  assert.equal(r.stderr, 'a warning\n');
  assert.equal(r.code, 3);
  // docker's order: wait is registered before start (else it could miss the exit).
  assert.ok(calls.indexOf('wait next-exit') >= 0 && calls.indexOf('wait next-exit') < calls.indexOf('start'), calls.join(', '));
});

test('docker prints the daemon message of an API error and exits 1', { skip }, async () => {
  const r = await docker(['inspect', '--type', 'container', 'nope']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such container: nope/);
});

test('docker exec -i passes stdin through and gets the output after closing stdin', { skip }, async () => {
  const r = await docker(['exec', '-i', 'web', 'tr', 'a-z', 'A-Z'], 'shout this\n');
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'SHOUT THIS\n');
  assert.equal(r.code, 0);
});
