import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, existsSync, cpSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  ConmonRuncRuntime, buildOciSpec, detectCgroupVersion, hostNofileLimit, CannotStartError,
  type RuntimeSettings, type AttachStream, type OciProcess,
} from '../../../src/runtime/index.js';
import { makeBusyboxRootfs } from '../../support/busybox.js';

let work: string;
let rootfsTemplate: string;
const created: Array<{ rt: ConmonRuncRuntime; id: string }> = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'hako-rt-'));
  rootfsTemplate = makeBusyboxRootfs(join(work, 'rootfs-template'));
});

after(async () => {
  for (const { rt, id } of created) await rt.delete(id, { force: true }).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

interface Box {
  rt: ConmonRuncRuntime;
  id: string;
  bundle: string;
  logPath: string;
  execRoot: string;
}

/** A fresh exec root, bundle and rootfs; the container is deleted in `after` even on failure. */
function box(): Box {
  const id = `hako-test-${randomBytes(5).toString('hex')}`;
  const dir = join(work, id);
  const bundle = join(dir, 'bundle');
  const execRoot = join(dir, 'run');
  mkdirSync(bundle, { recursive: true });
  cpSync(rootfsTemplate, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const rt = new ConmonRuncRuntime({ execRoot });
  created.push({ rt, id });
  return { rt, id, bundle, logPath: join(dir, 'ctr.log'), execRoot };
}

function settings(b: Box, args: string[], extra: Partial<RuntimeSettings> = {}): RuntimeSettings {
  return {
    id: b.id, rootfs: join(b.bundle, 'rootfs'), args, hostname: 'box',
    cgroupVersion: detectCgroupVersion(), hostNofileLimit: hostNofileLimit(), ...extra,
  };
}

async function create(b: Box, args: string[], o: { tty?: boolean; stdin?: boolean; extra?: Partial<RuntimeSettings> } = {}) {
  return b.rt.create(b.id, {
    bundleDir: b.bundle, spec: buildOciSpec(settings(b, args, { tty: o.tty, ...o.extra })),
    logPath: b.logPath, terminal: o.tty ?? false, stdin: o.stdin ?? false,
  });
}

/** Resolves with the exit code once conmon's exit file appears (watched, not polled). */
function waitExit(b: Box, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`${b.id} did not exit`)); }, timeoutMs);
    const check = async () => {
      const code = await b.rt.exitCode(b.id);
      if (code !== null) { clearTimeout(timer); stop(); resolve(code); }
    };
    const stop = b.rt.watchExits((id) => { if (id === b.id) void check(); });
    void check();
  });
}

function logLines(b: Box): Array<{ stream: string; text: string }> {
  return readFileSync(b.logPath, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [, stream = '', , ...rest] = l.split(' ');
    return { stream, text: rest.join(' ') };
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function collect(a: AttachStream): { out: () => string; ended: Promise<void> } {
  let out = '';
  a.onData((_s, d) => { out += d.toString(); });
  return { out: () => out, ended: new Promise((r) => a.onEnd(r)) };
}

test('create, start and the exit code arrives through the exit file', async () => {
  const b = box();
  const { pid } = await create(b, ['sh', '-c', 'exit 7']);
  assert.ok(pid > 0);
  assert.equal((await b.rt.state(b.id))?.status, 'created');
  await b.rt.start(b.id);
  assert.equal(await waitExit(b), 7);
  const info = await b.rt.exitInfo(b.id);
  assert.ok(info && Math.abs(info.exitedAt.getTime() - Date.now()) < 10_000);
  assert.equal((await b.rt.state(b.id))?.status, 'stopped');
  await b.rt.delete(b.id);
  assert.equal(await b.rt.state(b.id), null);
  assert.equal(await b.rt.exitCode(b.id), null);
});

test('stdout and stderr land in the k8s-file log with their stream names', async () => {
  const b = box();
  await create(b, ['sh', '-c', 'echo to-out; echo to-err >&2']);
  await b.rt.start(b.id);
  assert.equal(await waitExit(b), 0);
  const lines = logLines(b);
  assert.deepEqual(lines.find((l) => l.text === 'to-out')?.stream, 'stdout');
  assert.deepEqual(lines.find((l) => l.text === 'to-err')?.stream, 'stderr');
});

test('SIGTERM stops a container that handles it; SIGKILL stops one that ignores it', async () => {
  const polite = box();
  await create(polite, ['sh', '-c', 'trap "exit 3" TERM; while true; do sleep 0.1; done']);
  await polite.rt.start(polite.id);
  await new Promise((r) => setTimeout(r, 200));
  await polite.rt.kill(polite.id, 'SIGTERM');
  assert.equal(await waitExit(polite), 3);

  const stubborn = box();
  await create(stubborn, ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
  await stubborn.rt.start(stubborn.id);
  await new Promise((r) => setTimeout(r, 300)); // let sh install its trap
  await stubborn.rt.kill(stubborn.id, 'TERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await stubborn.rt.state(stubborn.id))?.status, 'running');
  await stubborn.rt.kill(stubborn.id, 9);
  assert.equal(await waitExit(stubborn), 137);
});

test('attach receives output and feeds stdin to cat; closing stdin ends it', async () => {
  const b = box();
  await create(b, ['cat'], { stdin: true });
  const a = await b.rt.attach(b.id);
  const c = collect(a);
  await b.rt.start(b.id);
  await a.writeStdin(Buffer.from('hello through conmon\n'));
  a.closeStdin();
  assert.equal(await waitExit(b), 0);
  await c.ended;
  assert.equal(c.out(), 'hello through conmon\n');
  a.close();
});

test('attach separates stdout from stderr', async () => {
  const b = box();
  await create(b, ['sh', '-c', 'read x; echo out-$x; echo err-$x >&2'], { stdin: true });
  const a = await b.rt.attach(b.id);
  const got: Record<number, string> = { 1: '', 2: '' };
  a.onData((s, d) => { got[s] += d.toString(); });
  const ended = new Promise<void>((r) => a.onEnd(r));
  await b.rt.start(b.id);
  await a.writeStdin(Buffer.from('x\n'));
  await waitExit(b);
  await ended;
  assert.equal(got[1], 'out-x\n');
  assert.equal(got[2], 'err-x\n');
});

test('a terminal container reports the size set by resize', async () => {
  const b = box();
  // The pause before exiting: a pty delivers output through a kernel work queue, and conmon
  // stops reading once the process is gone, so output written right before exit can be lost.
  await create(b, ['sh', '-c', 'read x; stty size; sleep 0.2'], { tty: true, stdin: true });
  const a = await b.rt.attach(b.id);
  const c = collect(a);
  await b.rt.start(b.id);
  await b.rt.resize(b.id, 33, 111);
  await new Promise((r) => setTimeout(r, 100));
  await a.writeStdin(Buffer.from('go\r'));
  assert.equal(await waitExit(b), 0);
  await c.ended;
  assert.match(c.out(), /33 111/);
});

test('exec without a tty returns output, stderr and the exit code', async () => {
  const b = box();
  await create(b, ['sleep', '30']);
  await b.rt.start(b.id);
  const proc: OciProcess = { args: ['sh', '-c', 'cat; echo err >&2; exit 5'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] };
  const h = await b.rt.exec(b.id, proc, { tty: false, stdin: true, detach: false });
  let out = '';
  let err = '';
  h.stdout!.on('data', (d: Buffer) => { out += d; });
  h.stderr!.on('data', (d: Buffer) => { err += d; });
  const ends = Promise.all([h.stdout!, h.stderr!].map((st) => new Promise((r) => st.on('end', r))));
  h.stdin!.end('piped in\n');
  assert.equal(await h.exited, 5);
  await ends;
  assert.equal(out, 'piped in\n');
  assert.equal(err, 'err\n');
  await b.rt.kill(b.id, 'KILL');
  await waitExit(b);
});

test('exec can write to /dev/stdout, which needs a pipe and not a socket', async () => {
  const b = box();
  await create(b, ['sleep', '30']);
  await b.rt.start(b.id);
  const h = await b.rt.exec(b.id, { args: ['sh', '-c', 'echo via-dev-stdout > /dev/stdout'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }, { tty: false, stdin: false, detach: false });
  let out = '';
  h.stdout!.on('data', (d: Buffer) => { out += d; });
  const ended = new Promise((r) => h.stdout!.on('end', r));
  assert.equal(await h.exited, 0);
  await ended;
  assert.equal(out, 'via-dev-stdout\n');
  await b.rt.kill(b.id, 'KILL');
});

test('exec -t runs in a terminal of the requested size and follows resize', async () => {
  const b = box();
  await create(b, ['sleep', '30']);
  await b.rt.start(b.id);
  const h = await b.rt.exec(b.id, { args: ['sh', '-c', 'tty; stty size; read x; stty size'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
    { tty: true, stdin: true, detach: false, consoleSize: { height: 21, width: 77 } });
  assert.ok(h.stdout && h.stdin, `no terminal: ${h.startError}`);
  let out = '';
  h.stdout.on('data', (d: Buffer) => { out += d; });
  const ended = new Promise((r) => h.stdout!.on('end', r));
  await waitFor(() => /21 77/.test(out));
  h.resize(40, 100);
  await new Promise((r) => setTimeout(r, 100));
  h.stdin.write('\r');
  assert.equal(await h.exited, 0, `${h.startError}`);
  await ended;
  assert.match(out, /\/dev\/pts\/\d+/);
  assert.match(out, /21 77[\s\S]*40 100/);
  await b.rt.kill(b.id, 'KILL');
});

test('exec of a missing program exits 127 with Docker\'s message', async () => {
  const b = box();
  await create(b, ['sleep', '30']);
  await b.rt.start(b.id);
  const h = await b.rt.exec(b.id, { args: ['nope-not-here'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }, { tty: false, stdin: false, detach: false });
  assert.equal(await h.exited, 127);
  assert.match(h.startError ?? '', /exec: "nope-not-here": executable file not found in \$PATH/);
  await b.rt.kill(b.id, 'KILL');
});

test('a container whose command is missing fails create with 127 and leaves nothing running', async () => {
  const b = box();
  await assert.rejects(create(b, ['nope-not-here']), (err: unknown) => {
    assert.ok(err instanceof CannotStartError);
    assert.equal(err.exitCode, 127);
    assert.match(err.message, /^exec: "nope-not-here": executable file not found in \$PATH/);
    return true;
  });
  assert.equal(await b.rt.state(b.id), null);
  await b.rt.delete(b.id);
});

test('a command that is a directory fails create with 126', async () => {
  const b = box();
  await assert.rejects(create(b, ['/tmp']), (err: unknown) => err instanceof CannotStartError && err.exitCode === 126);
});

test('pause freezes the container and resume thaws it', async () => {
  const b = box();
  await create(b, ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done']);
  await b.rt.start(b.id);
  await new Promise((r) => setTimeout(r, 200));
  await b.rt.pause(b.id);
  assert.equal((await b.rt.state(b.id))?.status, 'paused');
  const n1 = readFileSync(join(b.bundle, 'rootfs/tmp/n'), 'utf8');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(readFileSync(join(b.bundle, 'rootfs/tmp/n'), 'utf8'), n1);
  await b.rt.resume(b.id);
  await new Promise((r) => setTimeout(r, 300));
  assert.notEqual(readFileSync(join(b.bundle, 'rootfs/tmp/n'), 'utf8'), n1);
  assert.ok((await b.rt.ps(b.id)).length >= 1);
  await b.rt.kill(b.id, 'KILL');
  await waitExit(b);
});

test('conmon keeps the container after the process that created it is gone', async () => {
  const b = box();
  const spec = buildOciSpec(settings(b, ['sleep', '60']));
  const script = `
    import { ConmonRuncRuntime } from ${JSON.stringify(new URL('../../../src/runtime/index.js', import.meta.url).href)};
    const rt = new ConmonRuncRuntime({ execRoot: ${JSON.stringify(b.execRoot)} });
    await rt.create(${JSON.stringify(b.id)}, { bundleDir: ${JSON.stringify(b.bundle)}, spec: ${JSON.stringify(spec)}, logPath: null, terminal: false, stdin: false });
    await rt.start(${JSON.stringify(b.id)});
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await b.rt.state(b.id))?.status, 'running');
  assert.equal(await b.rt.monitorAlive(b.id), true);
  assert.ok((await b.rt.listKnown()).includes(b.id));
  await b.rt.kill(b.id, 'KILL');
  assert.equal(await waitExit(b), 137);
  assert.ok(existsSync(join(b.execRoot, 'exits', b.id)));
});

test('create, start, wait and delete of `true` is fast', async () => {
  const b = box();
  // warm up caches (binary pages, the seccomp profile) once
  await create(b, ['true']);
  await b.rt.start(b.id);
  await waitExit(b);
  await b.rt.delete(b.id);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await create(b, ['true']);
    const exited = waitExit(b);
    await b.rt.start(b.id);
    assert.equal(await exited, 0);
    await b.rt.delete(b.id);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  console.log(`create+start+wait+delete of true: median ${times[2]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[4]!.toFixed(1)} ms`);
  assert.ok(times[2]! < 150, `median ${times[2]} ms`);
});
