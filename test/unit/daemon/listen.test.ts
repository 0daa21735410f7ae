import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { clearStaleSocket, insecureHostWarning, listenOn } from '../../../src/daemon/listen.js';
import { freePort } from '../../support/network-cli.js';
import { writePidfile } from '../../../src/daemon/pidfile.js';
import { withTempDir } from '../../support/temp-dir.js';

test('a socket left behind by a dead daemon is removed and listened on again', () =>
  withTempDir('daemon', async (dir) => {
    const sock = path.join(dir, 'sub', 'hako.sock');
    await mkdir(path.dirname(sock));
    // A daemon killed with SIGKILL leaves its socket file behind, with nobody listening.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal((await stat(sock)).isSocket(), true);
    const server = http.createServer((_req, res) => res.end('fresh'));
    try {
      await listenOn(server, `unix://${sock}`);
      assert.equal((await stat(sock)).mode & 0o777, 0o660);
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ socketPath: sock, path: '/' }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => { text += d.toString(); });
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.equal(body, 'fresh');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }));

test('a socket another daemon answers on is refused with a clear error', () =>
  withTempDir('daemon', async (dir) => {
    const sock = path.join(dir, 'hako.sock');
    const running = http.createServer();
    await listenOn(running, `unix://${sock}`);
    try {
      await assert.rejects(clearStaleSocket(sock), { status: 409, message: /another daemon is already listening on .*hako\.sock/ });
      await assert.rejects(listenOn(http.createServer(), `unix://${sock}`), /another daemon/);
    } finally {
      await new Promise<void>((resolve) => running.close(() => resolve()));
    }
  }));

test('one API server answers on a unix socket and a plain tcp host at once', () =>
  withTempDir('daemon', async (dir) => {
    const sock = path.join(dir, 'hako.sock');
    const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
    const port = await freePort();
    const listeners = [await listenOn(server, `unix://${sock}`), await listenOn(server, `tcp://127.0.0.1:${port}`)];
    try {
      const get = (opts: http.RequestOptions) => new Promise<string>((resolve, reject) => {
        http.get(opts, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => { text += d.toString(); });
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.equal(await get({ socketPath: sock, path: '/unix' }), 'hello /unix');
      assert.equal(await get({ host: '127.0.0.1', port, path: '/tcp' }), 'hello /tcp');
      assert.equal(insecureHostWarning(`tcp://127.0.0.1:${port}`, null)?.startsWith('Binding to IP address without --tlsverify is insecure'), true);
      assert.equal(insecureHostWarning(`unix://${sock}`, null), undefined);
    } finally {
      for (const l of listeners) await l.cleanup();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }));

test('a regular file where the socket should be is not deleted', () =>
  withTempDir('daemon', async (dir) => {
    const file = path.join(dir, 'hako.sock');
    await writeFile(file, 'precious');
    await assert.rejects(clearStaleSocket(file), /exists and is not a socket/);
    assert.equal((await stat(file)).isFile(), true);
  }));

test('a pid file naming a dead process is replaced', () =>
  withTempDir('daemon', async (dir) => {
    const file = path.join(dir, 'run', 'hakod.pid');
    await writePidfile(file, 4242424);
    await writePidfile(file, 77);
  }));
