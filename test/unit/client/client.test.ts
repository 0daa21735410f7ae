import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createClient, ClientError, DaemonUnreachable, jsonLines, copyOutput } from '../../../src/client/index.js';
import { encodeFrame } from '../../../src/stdcopy/index.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function withServer(apiVersion: string, handler: Handler, fn: (host: string, seen: string[]) => Promise<void>, onUpgrade?: (req: http.IncomingMessage, socket: import('node:net').Socket) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hako-client-'));
  const sock = join(dir, 'd.sock');
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/_ping') {
      res.setHeader('Api-Version', apiVersion);
      res.setHeader('Ostype', 'linux');
      res.end('OK');
      return;
    }
    handler(req, res);
  });
  const upgraded: import('node:stream').Duplex[] = [];
  if (onUpgrade) {
    server.on('upgrade', (req, socket) => {
      upgraded.push(socket);
      seen.push(`${req.method} ${req.url}`);
      onUpgrade(req, socket as import('node:net').Socket);
    });
  }
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await fn(`unix://${sock}`, seen);
  } finally {
    server.closeAllConnections();
    for (const s of upgraded) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the client negotiates down to an older daemon and prefixes paths with the version', async () => {
  await withServer('1.43', (_req, res) => { res.setHeader('Content-Type', 'application/json'); res.end('{"Version":"x"}'); }, async (host, seen) => {
    const c = createClient({ host });
    const v = await c.version();
    assert.deepEqual(v, { Version: 'x' });
    assert.ok(seen.includes('GET /v1.43/version'), seen.join(','));
    c.close();
  });
});

test('the client never asks for more than v1.47', async () => {
  await withServer('1.99', (_req, res) => res.end('{}'), async (host, seen) => {
    const c = createClient({ host });
    await c.info();
    assert.ok(seen.includes('GET /v1.47/info'));
    c.close();
  });
});

test('an error answer becomes a ClientError with the daemon\'s message and status', async () => {
  await withServer('1.47', (_req, res) => { res.statusCode = 404; res.end('{"message":"No such container: nope"}'); }, async (host) => {
    const c = createClient({ host });
    await assert.rejects(c.containerInspect('nope'), (e: unknown) => e instanceof ClientError && e.status === 404 && e.message === 'No such container: nope');
    c.close();
  });
});

test('a socket with nothing behind it is DaemonUnreachable', async () => {
  const c = createClient({ host: 'unix:///nonexistent/hako.sock' });
  await assert.rejects(c.ping(), (e: unknown) => e instanceof DaemonUnreachable && /Cannot connect to the hako daemon at unix:\/\/\/nonexistent\/hako.sock/.test((e as Error).message));
  c.close();
});

test('filters, booleans and repeated values are encoded as docker does', async () => {
  await withServer('1.47', (_req, res) => res.end('[]'), async (host, seen) => {
    const c = createClient({ host });
    await c.containerList({ all: true, filters: { status: ['exited'] } });
    const url = new URL(`http://x${seen.at(-1)?.split(' ')[1]}`);
    assert.equal(url.searchParams.get('all'), '1');
    assert.deepEqual(JSON.parse(url.searchParams.get('filters') ?? ''), { status: { exited: true } });
    c.close();
  });
});

test('wait reports registration before the exit status arrives', async () => {
  await withServer('1.47', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    setTimeout(() => res.end('{"StatusCode":3}'), 50);
  }, async (host) => {
    const c = createClient({ host });
    const w = c.containerWait('x', 'next-exit');
    let settled = false;
    void w.result.then(() => { settled = true; });
    await w.registered;
    assert.equal(settled, false);
    assert.deepEqual(await w.result, { StatusCode: 3 });
    c.close();
  });
});

test('jsonLines yields objects split across chunks', async () => {
  const chunks = ['{"status":"a"}\n{"str', 'eam":"b\\n"}\n', '{"error":"c"}'];
  const out = [];
  for await (const m of jsonLines(Readable.from(chunks.map((s) => Buffer.from(s))))) out.push(m);
  assert.deepEqual(out, [{ status: 'a' }, { stream: 'b\n' }, { error: 'c' }]);
});

test('copyOutput splits multiplexed frames to stdout and stderr', async () => {
  const frames = Buffer.concat([encodeFrame('stdout', 'out1'), encodeFrame('stderr', 'err1'), encodeFrame('stdout', 'out2')]);
  const pieces = [frames.subarray(0, 5), frames.subarray(5, 13), frames.subarray(13)];
  const collect = (): { w: Writable; text: () => string } => {
    const parts: Buffer[] = [];
    const w = new Writable({ write(c: Buffer, _e, cb) { parts.push(c); cb(); } });
    return { w, text: () => Buffer.concat(parts).toString() };
  };
  const out = collect();
  const err = collect();
  await copyOutput(Readable.from(pieces), false, out.w, err.w);
  assert.equal(out.text(), 'out1out2');
  assert.equal(err.text(), 'err1');
});


test('attach hijacks the connection: 101, then a raw duplex stream', async () => {
  await withServer('1.47', (_req, res) => res.end(), async (host, seen) => {
    const c = createClient({ host });
    const conn = await c.containerAttach('abc', { stream: true, stdin: true, stdout: true });
    assert.ok(seen.some((s) => s.startsWith('POST /v1.47/containers/abc/attach?stream=1&stdin=1&stdout=1')), seen.join(','));
    conn.input?.write('ping');
    const chunks: Buffer[] = [];
    for await (const chunk of conn.output) {
      chunks.push(chunk as Buffer);
      if (Buffer.concat(chunks).length >= 'echo:ping'.length) break;
    }
    assert.equal(Buffer.concat(chunks).toString(), 'echo:ping');
    conn.close();
    c.close();
  }, (req, socket) => {
    assert.equal(req.headers['upgrade'], 'tcp');
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    socket.on('data', (d) => socket.write(`echo:${d.toString()}`));
  });
});
