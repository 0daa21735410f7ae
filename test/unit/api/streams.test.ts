import assert from 'node:assert/strict';
import http from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import type { OutputChunk, StdioSession } from '../../../src/engine/contract.js';
import { NotFound } from '../../../src/errdefs/index.js';
import { FrameDecoder, type Frame } from '../../../src/stdcopy/index.js';
import { RawClient, splitHead, startServer } from './support.js';

/** A session whose output the test drives; stdin is collected. */
function echoSession(tty: boolean) {
  const output = new PassThrough({ objectMode: true });
  const input = new PassThrough();
  const stdin: Buffer[] = [];
  let inputEnded = false;
  let closed = false;
  input.on('data', (d: Buffer) => stdin.push(d));
  input.on('end', () => { inputEnded = true; });
  const session: StdioSession = {
    tty,
    output: output as unknown as AsyncIterable<OutputChunk>,
    input,
    close() { closed = true; output.end(); },
  };
  return {
    session,
    emit: (stream: 'stdout' | 'stderr', text: string) => output.write({ stream, data: Buffer.from(text) }),
    finish: () => output.end(),
    stdin: () => Buffer.concat(stdin).toString(),
    inputEnded: () => inputEnded,
    closed: () => closed,
  };
}

function frames(data: Buffer): Frame[] {
  return new FrameDecoder().push(data);
}

const execRequest = (body: string, upgrade: boolean, after = '') =>
  `POST /v1.47/exec/e1/start HTTP/1.1\r\nHost: docker\r\n${upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : ''}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}${after}`;

for (const upgrade of [true, false]) {
  const how = upgrade ? 'with Upgrade: tcp' : 'without upgrade headers';
  test(`exec start ${how} streams framed output, passes stdin, and survives the client's half-close`, async () => {
    const fake = echoSession(false);
    let startBody: unknown;
    const server = await startServer({ exec: { async start(_id, body) { startBody = body; return fake.session; } } });
    const client = new RawClient(server.socketPath);
    try {
      // With upgrade the client may send stdin right behind the body; legacy clients wait.
      client.socket.write(execRequest('{"Detach":false,"Tty":false}', upgrade, upgrade ? 'early ' : ''));
      const data = await client.until((d) => splitHead(d) !== null, 'the response head');
      const { head } = splitHead(data)!;
      assert.match(head, upgrade ? /^HTTP\/1\.1 101 UPGRADED\r\n/ : /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
      if (upgrade) assert.match(head, /Upgrade: tcp/);
      assert.deepEqual(startBody, { Detach: false, Tty: false });

      client.socket.write('stdin data');
      client.socket.end(); // half-close: stdin is done, output must keep coming
      await waitFor(() => fake.inputEnded(), 'stdin to end');
      assert.equal(fake.stdin(), upgrade ? 'early stdin data' : 'stdin data');
      fake.emit('stdout', 'out after half-close\n');
      fake.emit('stderr', 'err\n');
      fake.finish();
      const all = await client.until((_d, ended) => ended, 'the server to end the connection');
      const got = frames(splitHead(all)!.rest);
      assert.deepEqual(got.map((f) => [f.stream, f.data.toString()]), [['stdout', 'out after half-close\n'], ['stderr', 'err\n']]);
    } finally {
      client.socket.destroy();
      await server.close();
    }
  });
}

test('attach on a TTY sends raw bytes without frames, as a raw-stream', async () => {
  const fake = echoSession(true);
  let opts: unknown;
  const server = await startServer({ containers: { async attach(_ref, o) { opts = o; return fake.session; } } });
  const client = new RawClient(server.socketPath);
  try {
    client.socket.write('POST /v1.47/containers/web/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    await client.until((d) => splitHead(d) !== null, 'the response head');
    assert.match(splitHead(client.received)!.head, /Content-Type: application\/vnd\.docker\.raw-stream/);
    assert.deepEqual({ ...(opts as object), signal: undefined }, { stream: true, logs: false, stdin: true, stdout: true, stderr: true, signal: undefined });
    fake.emit('stdout', '$ ');
    await client.until((d) => splitHead(d)!.rest.toString() === '$ ', 'the raw prompt');
    client.socket.destroy();
    await waitFor(() => fake.closed(), 'the session to be closed when the client goes away');
  } finally {
    client.socket.destroy();
    await server.close();
  }
});

test('attach to a missing container answers 404 on the raw connection', async () => {
  const server = await startServer({ containers: { async attach(ref) { throw new NotFound(`No such container: ${ref}`); } } });
  const client = new RawClient(server.socketPath);
  try {
    client.socket.write('POST /containers/nope/attach?stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    const data = await client.until((_d, ended) => ended, 'the error reply');
    const { head, rest } = splitHead(data)!;
    assert.match(head, /^HTTP\/1\.1 404 Not Found/);
    assert.deepEqual(JSON.parse(rest.toString()), { message: 'No such container: nope' });
  } finally {
    client.socket.destroy();
    await server.close();
  }
});

test('exec start with Detach answers 200 without hijacking', async () => {
  const server = await startServer({ exec: { async start() { return null; } } });
  try {
    const reply = await server.request('POST', '/exec/e1/start', '{"Detach":true}', { 'Content-Type': 'application/json' });
    assert.equal(reply.status, 200);
  } finally {
    await server.close();
  }
});

test('wait sends the 200 and headers before the container exits, then the status code', async () => {
  let release: (code: number) => void = () => {};
  let aborted: AbortSignal | undefined;
  const server = await startServer({
    containers: {
      wait(_ref, condition, signal) {
        aborted = signal;
        assert.equal(condition, 'next-exit');
        return new Promise((resolve) => { release = (code) => resolve({ StatusCode: code }); });
      },
    },
  });
  try {
    const { res, body } = await openRequest(server.socketPath, 'POST', '/v1.47/containers/web/wait?condition=next-exit');
    assert.equal(res.statusCode, 200); // the head arrived while the engine still waits
    release(3);
    assert.deepEqual(JSON.parse(await body), { StatusCode: 3, Error: null });
    assert.equal(aborted?.aborted ?? false, false);
  } finally {
    await server.close();
  }
});

test('wait for a missing container answers 404, and a client that leaves aborts the wait', async () => {
  let signal: AbortSignal | undefined;
  const server = await startServer({
    containers: {
      async wait(ref, _condition, s) {
        if (ref === 'nope') throw new NotFound(`No such container: ${ref}`);
        signal = s;
        return new Promise(() => {});
      },
    },
  });
  try {
    assert.equal((await server.request('POST', '/containers/nope/wait')).status, 404);
    const { res } = await openRequest(server.socketPath, 'POST', '/containers/web/wait');
    res.destroy();
    await waitFor(() => signal?.aborted === true, 'the engine wait to be aborted');
  } finally {
    await server.close();
  }
});

test('logs stream frames with docker timestamps and stop following when the client leaves', async () => {
  let signal: AbortSignal | undefined;
  const server = await startServer({
    containers: {
      async logs(_ref, opts) {
        signal = opts.signal;
        async function* entries(): AsyncGenerator<OutputChunk> {
          yield { stream: 'stdout', data: Buffer.from('one\n'), time: new Date('2024-05-06T07:08:09.123Z') };
          yield { stream: 'stderr', data: Buffer.from('two\n'), time: new Date('2024-05-06T07:08:10Z') };
          if (opts.follow) await new Promise((resolve) => opts.signal?.addEventListener('abort', resolve));
        }
        return { tty: false, entries: entries() };
      },
    },
  });
  try {
    const reply = await server.request('GET', '/v1.47/containers/web/logs?stdout=1&stderr=1&timestamps=1');
    assert.equal(reply.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    assert.deepEqual(frames(reply.body).map((f) => [f.stream, f.data.toString()]), [
      ['stdout', '2024-05-06T07:08:09.123000000Z one\n'],
      ['stderr', '2024-05-06T07:08:10.000000000Z two\n'],
    ]);
    const follow = await openRequest(server.socketPath, 'GET', '/containers/web/logs?stdout=1&follow=1');
    follow.res.destroy();
    await waitFor(() => signal?.aborted === true, 'following to stop');
    assert.equal((await server.request('GET', '/containers/web/logs')).status, 400);
  } finally {
    await server.close();
  }
});

test('import streams progress and ends with the image id; load streams its lines', async () => {
  let imported = 0;
  const server = await startServer({
    images: {
      async importRootfs(tar, opts) {
        for await (const chunk of tar) imported += (chunk as Buffer).length;
        assert.deepEqual(opts, { changes: ['CMD ["sh"]', 'ENV A=1'], repo: 'me/base', tag: 'v1' });
        return { Id: 'sha256:abc' };
      },
      async load(tar, opts) {
        tar.resume();
        assert.equal(opts.quiet, false);
        return ['Loaded image: busybox:latest'];
      },
    },
  });
  try {
    const tar = Buffer.alloc(50_000, 1);
    const reply = await server.request('POST', `/images/create?fromSrc=-&repo=me/base&tag=v1&changes=${encodeURIComponent('CMD ["sh"]')}&changes=${encodeURIComponent('ENV A=1')}`, tar);
    assert.equal(reply.status, 200);
    assert.equal(imported, tar.length);
    const lines = reply.text.trim().split('\r\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.at(-1), { status: 'sha256:abc' });
    const load = await server.request('POST', '/images/load', Buffer.alloc(10));
    assert.equal(load.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(load.text.trim()), { stream: 'Loaded image: busybox:latest\n' });
  } finally {
    await server.close();
  }
});

test('image save streams the archive of every named image', async () => {
  const server = await startServer({ images: { async save(refs) { return Readable.from([Buffer.from(refs.join(','))]); } } });
  try {
    const reply = await server.request('GET', '/images/get?names=a:1&names=localhost:5000/b');
    assert.equal(reply.headers['content-type'], 'application/x-tar');
    assert.equal(reply.text, 'a:1,localhost:5000/b');
    assert.equal((await server.request('GET', '/images/get')).status, 400);
  } finally {
    await server.close();
  }
});

test('archive HEAD carries the path stat header as base64 JSON', async () => {
  const stat = { name: 'hosts', size: 12, mode: 420, mtime: '2024-01-01T00:00:00Z', linkTarget: '' };
  const server = await startServer({ containers: { async statPath(_ref, path) { assert.equal(path, '/etc/hosts'); return stat; } } });
  try {
    const reply = await server.request('HEAD', '/containers/web/archive?path=/etc/hosts');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(Buffer.from(String(reply.headers['x-docker-container-path-stat']), 'base64').toString()), stat);
    assert.equal((await server.request('HEAD', '/containers/web/archive')).status, 400);
  } finally {
    await server.close();
  }
});

function openRequest(socketPath: string, method: string, path: string): Promise<{ res: http.IncomingMessage; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, agent: false }, (res) => {
      const body = new Promise<string>((done, fail) => {
        let text = '';
        res.on('data', (d: Buffer) => { text += d.toString(); });
        res.on('end', () => done(text));
        res.on('error', fail);
      });
      body.catch(() => {});
      resolve({ res, body });
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
