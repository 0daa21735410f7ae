/**
 * The real docker CLI against hakod: version, info, `docker run` in the foreground with its
 * exit codes, and the errors a user sees for bad input.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, exits } from './expect.js';

describe('docker CLI basics against hakod', () => {
  let d: Hakod;
  before(async () => { d = await startHakod(); });
  after(async () => { await d?.stop(); });

  it('docker version prints a Server section with the engine and its API version', async () => {
    const out = ok(await d.docker(['version']), d);
    assert.match(out, /^Client:/m);
    assert.match(out, /^Server:/m, out);
    assert.match(out, /^ Engine:\s*$/m, out);
    assert.match(out, /API version:\s+1\.\d+ \(minimum version 1\.\d+\)/, out);
    const server = ok(await d.docker(['version', '--format', '{{.Server.APIVersion}}']), d).trim();
    assert.match(server, /^1\.\d+$/);
  });

  it('docker info reports the server with its containers, images and storage', async () => {
    const r = await d.docker(['info']);
    const out = ok(r, d);
    assert.match(out, /^Server:/m, out);
    assert.match(out, /^ Containers: \d+/m, out);
    assert.match(out, /^ Images: [1-9]\d*/m, out); // busybox was imported
    assert.match(out, /^ Server Version: \S+/m, out);
    assert.match(out, /^ Storage Driver: \S+/m, out);
    assert.match(out, /^ Docker Root Dir: /m, out);
    assert.doesNotMatch(r.stderr, /error/i, r.stderr);
    assert.equal(ok(await d.docker(['info', '--format', '{{.OSType}}']), d), 'linux\n');
  });

  it('docker run --rm prints the output and leaves no container behind', async () => {
    const before = ok(await d.docker(['ps', '-aq']), d);
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'hello\n');
    assert.equal(r.stderr, '');
    assert.equal(ok(await d.docker(['ps', '-aq']), d), before);
  });

  it('docker run exits with the container\'s exit code', async () => {
    exits(await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 7']), 7, undefined, d);
  });

  it('docker run keeps stdout and stderr apart', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('docker run of a missing executable exits 127 and names it', async () => {
    const r = await d.docker(['run', '--rm', '--name', 'nope1', 'busybox', '/nope']);
    exits(r, 127, /\/nope/, d);
    assert.match(r.stderr, /no such file or directory|not found/i);
    assert.equal(ok(await d.docker(['ps', '-aq', '--filter', 'name=nope1']), d), '', 'run --rm removes a container that failed to start');
  });

  it('docker run of a file that is not executable exits 126', async () => {
    exits(await d.docker(['run', '--rm', 'busybox', '/etc/passwd']), 126, /permission denied/i, d);
  });

  it('docker run with an unknown flag exits 125 with "unknown flag"', async () => {
    exits(await d.docker(['run', '--bogus', 'busybox', 'true']), 125, /unknown flag: --bogus/, d);
  });

  it('docker run of an image that does not exist fails and names the image', async () => {
    const r = await d.docker(['run', '--rm', 'nosuchimage:1', 'true'], { timeoutMs: 30_000 });
    exits(r, 125, /nosuchimage/, d);
  });

  it('docker run --pull never of an image that does not exist says it is not found', async () => {
    const r = await d.docker(['run', '--rm', '--pull', 'never', 'nosuchimage:1', 'true']);
    exits(r, 125, /nosuchimage:1/, d);
    assert.match(r.stderr, /No such image|not found/i);
  });

  it('docker run with a name already in use exits 125 with "is already in use"', async () => {
    ok(await d.docker(['create', '--name', 'taken', 'busybox', 'true']), d);
    try {
      const r = await d.docker(['run', '--name', 'taken', 'busybox', 'true']);
      exits(r, 125, /The container name "\/taken" is already in use by container "[0-9a-f]{64}"/, d);
      assert.match(r.stderr, /remove \(or rename\) that container/);
    } finally {
      await d.docker(['rm', '-f', 'taken']);
    }
  });

  it('docker run -e and -w reach the process', async () => {
    const r = await d.docker(['run', '--rm', '-e', 'GREETING=hi there', '-w', '/tmp', 'busybox', 'sh', '-c', 'echo "$GREETING"; pwd; echo $PATH']);
    exits(r, 0, undefined, d);
    const [greeting, cwd, path] = r.stdout.split('\n');
    assert.equal(greeting, 'hi there');
    assert.equal(cwd, '/tmp');
    assert.match(path ?? '', /\/usr\/local\/sbin:.*\/bin/, 'an image without Env still gets the default PATH');
  });

  it('docker run -u runs the process as that user', async () => {
    const r = await d.docker(['run', '--rm', '-u', 'app', 'busybox', 'id']);
    exits(r, 0, undefined, d);
    assert.match(r.stdout, /^uid=1001\(app\) gid=1001\(app\)/);
  });

  it('docker run -i passes stdin to the process', async () => {
    const r = await d.docker(['run', '--rm', '-i', 'busybox', 'wc', '-l'], { input: 'a\nb\nc\n' });
    exits(r, 0, undefined, d);
    assert.equal(r.stdout.trim(), '3');
  });
});
