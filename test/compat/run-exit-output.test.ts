/**
 * What a user sees when the container's process is gone at once: every byte of a TTY container's
 * output (hako's and the docker CLI's `run -t`, and the API's attach-before-start), and, for a
 * `--rm` container whose start fails, only docker's own error (no "Error waiting for container").
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { startHakod, run, DOCKER, REPO_ROOT, type Hakod } from '../support/hakod.js';
import { ok, exits } from './expect.js';

const ROUNDS = 30;

/** The output of `script -qfec cmd`: the command on a pseudo-terminal, as on a user's terminal. */
async function underScript(d: Hakod, cmd: string): Promise<{ code: number; out: string; stderr: string }> {
  const r = await run('script', ['-qfec', cmd, '/dev/null'], { holdStdin: true, env: d.env as Record<string, string>, timeoutMs: 20_000 });
  // Both the container's pty and script's own translate \n into \r\n.
  return { code: r.code, out: r.stdout.replace(/\r/g, ''), stderr: r.stderr };
}

/** POST /containers/{id}/attach (hijacked, before start), then start: the raw bytes until the end. */
function attachThenStart(d: Hakod, id: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: d.socket, method: 'POST', path: `/containers/${id}/attach?stream=1&stdout=1&stderr=1`,
      headers: { Host: 'docker', Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.on('upgrade', (_res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (b: Buffer) => chunks.push(b));
      socket.on('error', reject);
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      d.api('POST', `/containers/${id}/start`).then((s) => {
        if (s.status !== 204) reject(new Error(`start answered ${s.status} ${JSON.stringify(s.body)}`));
      }, reject);
    });
    req.on('response', (res) => reject(new Error(`attach answered ${res.statusCode} instead of 101`)));
    req.on('error', reject);
    req.end();
  });
}

describe('output of containers that exit at once, and --rm containers that never start', () => {
  let d: Hakod;
  before(async () => {
    d = await startHakod();
  });
  after(async () => {
    await d?.stop();
  });

  for (const cli of ['hako', 'docker'] as const) {
    it(`${cli} run -t on a terminal prints "hi" of \`echo hi\` ${ROUNDS} times out of ${ROUNDS}`, async () => {
      const bin = cli === 'hako' ? join(REPO_ROOT, 'bin/hako') : DOCKER;
      const misses: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const r = await underScript(d, `${bin} -H ${d.host} run --rm -t busybox echo hi`);
        if (r.code !== 0 || r.out !== 'hi\n') misses.push(`round ${i}: exit ${r.code} stdout ${JSON.stringify(r.out)} stderr ${JSON.stringify(r.stderr)}`);
      }
      assert.deepEqual(misses, [], `${misses.length} of ${ROUNDS} runs lost output\n${d.logTail(15)}`);
    });
  }

  it(`a TTY container attached before start delivers its whole output over the API ${ROUNDS} times out of ${ROUNDS}`, async () => {
    const misses: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const created = await d.api('POST', '/containers/create', {
        Image: 'busybox', Cmd: ['echo', 'hi'], Tty: true, AttachStdout: true, AttachStderr: true,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = (created.body as { Id: string }).Id;
      try {
        const out = (await attachThenStart(d, id)).toString('latin1');
        if (out !== 'hi\r\n') misses.push(`round ${i}: ${JSON.stringify(out)}`);
      } finally {
        await d.api('DELETE', `/containers/${id}?force=1`);
      }
    }
    assert.deepEqual(misses, [], `${misses.length} of ${ROUNDS} attachments lost output\n${d.logTail(15)}`);
  });

  const startError = 'Error response from daemon: exec: "/nope": stat /nope: no such file or directory';

  it('docker run --rm with a missing executable prints only the start error, exits 127 and leaves nothing', async () => {
    for (const flags of [['--rm'], ['--rm', '-t']]) {
      const r = await d.docker(['run', ...flags, 'busybox', '/nope']);
      exits(r, 127, undefined, d);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `docker: ${startError}\n\nRun 'docker run --help' for more information\n`, `docker run ${flags.join(' ')}`);
    }
    assert.equal(ok(await d.docker(['ps', '-aq']), d), '');
  });

  it('hako run --rm with a missing executable prints only the start error and exits 127', async () => {
    const r = await d.hako(['run', '--rm', 'busybox', '/nope']);
    exits(r, 127, undefined, d);
    assert.equal(r.stderr, `hako: ${startError}\n\nRun 'hako run --help' for more information\n`);
    assert.equal(ok(await d.docker(['ps', '-aq']), d), '');
  });

  it('wait?condition=removed answers the exit code without the start error once the container is gone; a kept one still reports it', async () => {
    const created = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['/nope'], HostConfig: { AutoRemove: true } });
    const id = (created.body as { Id: string }).Id;
    const waited = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/containers/${id}/wait?condition=removed`, headers: { Host: 'docker' } }, (res) => {
        let body = '';
        res.on('data', (b: Buffer) => { body += b.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        // The 200 is out once the wait is registered: start now, as the docker CLI does.
        d.api('POST', `/containers/${id}/start`).then((s) => {
          if (s.status !== 400) reject(new Error(`start answered ${s.status} ${JSON.stringify(s.body)}`));
        }, reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(await waited, { status: 200, body: '{"StatusCode":127,"Error":null}\n' });

    const kept = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['/nope'] });
    const keptId = (kept.body as { Id: string }).Id;
    assert.equal((await d.api('POST', `/containers/${keptId}/start`)).status, 400);
    assert.deepEqual(await d.api('POST', `/containers/${keptId}/wait`), {
      status: 200, body: { StatusCode: 127, Error: { Message: 'exec: "/nope": stat /nope: no such file or directory' } },
    });
    ok(await d.docker(['rm', keptId]), d);
  });
});
