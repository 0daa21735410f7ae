/**
 * The real docker CLI against hakod: detached containers and everything a user does with them:
 * ps, inspect, logs, exec, attach, wait, cp, stop, kill, rm, and `run -it` on a real terminal.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, run, DOCKER, type Hakod } from '../support/hakod.js';
import { ok, exits, fails, eventually } from './expect.js';

describe('docker CLI container commands against hakod', () => {
  let d: Hakod;
  let webId = '';
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-files-'));
  before(async () => {
    d = await startHakod();
    const r = await d.docker(['run', '-d', '--name', 'web', 'busybox', 'sleep', '300']);
    webId = ok(r, d).trim();
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('docker run -d prints the full 64-hex container id', () => {
    assert.match(webId, /^[0-9a-f]{64}$/);
  });

  it('docker ps shows the running container in the standard table', async () => {
    const out = ok(await d.docker(['ps']), d);
    const [header, ...rows] = out.trimEnd().split('\n');
    const columns = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
    const at = columns.map((c) => header!.indexOf(c));
    assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)), `header: ${header}`);
    const row = rows.find((l) => l.trimEnd().endsWith('web'));
    assert.ok(row, `no row for web in\n${out}`);
    assert.ok(row.startsWith(webId.slice(0, 12)), row);
    assert.equal(row.slice(at[1]!, at[2]!).trim(), 'busybox');
    assert.equal(row.slice(at[2]!, at[3]!).trim(), '"sleep 300"');
    assert.match(row.slice(at[3]!, at[4]!).trim(), /^(Less than a second ago|\d+ seconds? ago|About a minute ago)$/);
    assert.match(row.slice(at[4]!, at[5]!).trim(), /^Up /);
  });

  it('docker ps --format prints one name per line', async () => {
    const names = ok(await d.docker(['ps', '--format', '{{.Names}}']), d).split('\n');
    assert.ok(names.includes('web'), names.join(','));
    assert.equal(ok(await d.docker(['ps', '-q', '--no-trunc', '--filter', 'name=web']), d), `${webId}\n`);
  });

  it('docker ps -a --filter status=exited lists exited containers only', async () => {
    const r = await d.docker(['run', '--name', 'done1', 'busybox', 'sh', '-c', 'exit 2']);
    exits(r, 2, undefined, d);
    const exited = ok(await d.docker(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}']), d);
    assert.match(exited, /^done1 Exited \(2\) /m, exited);
    assert.doesNotMatch(exited, /^web /m);
    const running = ok(await d.docker(['ps', '--format', '{{.Names}}']), d);
    assert.doesNotMatch(running, /^done1$/m, 'docker ps without -a hides exited containers');
    ok(await d.docker(['rm', 'done1']), d);
  });

  it('docker inspect --format reads the state', async () => {
    assert.equal(ok(await d.docker(['inspect', 'web', '--format', '{{.State.Status}}']), d), 'running\n');
    const info = JSON.parse(ok(await d.docker(['inspect', 'web']), d)) as Array<Record<string, any>>;
    assert.equal(info.length, 1);
    assert.equal(info[0]!.Id, webId);
    assert.equal(info[0]!.Name, '/web');
    assert.equal(info[0]!.State.Running, true);
    assert.ok(info[0]!.State.Pid > 0);
    assert.deepEqual(info[0]!.Config.Cmd, ['sleep', '300']);
    fails(await d.docker(['inspect', 'no-such-container']), /No such (object|container): no-such-container/i, d);
  });

  it('docker logs prints all the output of a finished container; logs -f ends when it exits', async () => {
    const script = 'for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done; echo oops >&2';
    ok(await d.docker(['run', '-d', '--name', 'logger', 'busybox', 'sh', '-c', script]), d);
    const follow = await d.docker(['logs', '-f', 'logger'], { timeoutMs: 15_000 });
    exits(follow, 0, undefined, d);
    const want = 'line 1\nline 2\nline 3\nline 4\nline 5\n';
    assert.equal(follow.stdout, want);
    assert.equal(follow.stderr, 'oops\n');
    const again = await d.docker(['logs', 'logger']);
    exits(again, 0, undefined, d);
    assert.equal(again.stdout, want);
    assert.equal(again.stderr, 'oops\n');
    // --tail counts lines of both streams: the last three are line 4, line 5 and oops.
    const tail = await d.docker(['logs', '--tail', '3', 'logger']);
    assert.deepEqual([tail.stdout, tail.stderr], ['line 4\nline 5\n', 'oops\n']);
    const stamped = ok(await d.docker(['logs', '-t', 'logger']), d).split('\n')[0] ?? '';
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line 1$/);
    ok(await d.docker(['rm', 'logger']), d);
  });

  it('docker logs -f of a running container streams new lines', async () => {
    ok(await d.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done']), d);
    const r = await d.docker(['logs', '-f', 'ticker'], { timeoutMs: 15_000 });
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'tick 1\ntick 2\ntick 3\n');
    ok(await d.docker(['rm', 'ticker']), d);
  });

  it('docker exec runs a command in the container and returns its exit code', async () => {
    const hi = await d.docker(['exec', 'web', 'echo', 'hi']);
    exits(hi, 0, undefined, d);
    assert.equal(hi.stdout, 'hi\n');
    exits(await d.docker(['exec', 'web', 'sh', '-c', 'exit 3']), 3, undefined, d);
    const env = await d.docker(['exec', '-e', 'X=1', '-w', '/tmp', 'web', 'sh', '-c', 'echo $X $(pwd)']);
    assert.equal(ok(env, d), '1 /tmp\n');
  });

  it('docker exec -i passes stdin through', async () => {
    const r = await d.docker(['exec', '-i', 'web', 'cat'], { input: 'from stdin\nsecond line\n' });
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'from stdin\nsecond line\n');
  });

  it('docker exec of a missing executable exits 127; in a missing container it fails', async () => {
    exits(await d.docker(['exec', 'web', '/nope']), 127, /\/nope/, d);
    fails(await d.docker(['exec', 'no-such-container', 'true']), /No such container: no-such-container/, d);
  });

  it('docker cp copies a file and a directory into the container and back out', async () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(work, 'file.txt'), 'one file\n');
    writeFileSync(join(src, 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'sub', 'b.txt'), 'beta\n');

    ok(await d.docker(['cp', join(work, 'file.txt'), 'web:/tmp/file.txt']), d);
    assert.equal(ok(await d.docker(['exec', 'web', 'cat', '/tmp/file.txt']), d), 'one file\n');
    ok(await d.docker(['cp', src, 'web:/tmp/dir']), d);
    assert.equal(ok(await d.docker(['exec', 'web', 'cat', '/tmp/dir/a.txt', '/tmp/dir/sub/b.txt']), d), 'alpha\nbeta\n');

    const out = join(work, 'out');
    mkdirSync(out);
    ok(await d.docker(['cp', 'web:/tmp/file.txt', join(out, 'copied.txt')]), d);
    assert.equal(readFileSync(join(out, 'copied.txt'), 'utf8'), 'one file\n');
    ok(await d.docker(['cp', 'web:/tmp/dir', join(out, 'dir')]), d);
    assert.equal(readFileSync(join(out, 'dir', 'a.txt'), 'utf8'), 'alpha\n');
    assert.equal(readFileSync(join(out, 'dir', 'sub', 'b.txt'), 'utf8'), 'beta\n');
    // A file from the image, not only the ones we put there.
    ok(await d.docker(['cp', 'web:/etc/passwd', join(out, 'passwd')]), d);
    assert.match(readFileSync(join(out, 'passwd'), 'utf8'), /^app:x:1001:1001:/m);
    fails(await d.docker(['cp', 'web:/no/such/path', join(out, 'x')]), /no such|not found|Could not find/i, d);
  });

  it('docker cp will not replace a directory by a file nor a file by a directory, and the container keeps running', async () => {
    ok(await d.docker(['exec', 'web', 'sh', '-c', 'mkdir -p /tmp/clash1/x /tmp/clash2 && echo keep > /tmp/clash2/y']), d);
    mkdirSync(join(work, 'clash1'));
    writeFileSync(join(work, 'clash1', 'x'), 'a file\n');
    mkdirSync(join(work, 'clash2', 'y'), { recursive: true });
    fails(await d.docker(['cp', join(work, 'clash1'), 'web:/tmp/']), /cannot overwrite directory "\/tmp\/clash1\/x" with non-directory "\/tmp"/, d);
    fails(await d.docker(['cp', join(work, 'clash2'), 'web:/tmp/']), /cannot overwrite non-directory "\/tmp\/clash2\/y" with directory "\/tmp"/, d);
    assert.equal(ok(await d.docker(['exec', 'web', 'sh', '-c', 'test -d /tmp/clash1/x && cat /tmp/clash2/y']), d), 'keep\n');
    // The copies froze the running container only while they lasted.
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}}', 'web']), d), 'running false\n');
  });

  it('docker ps --filter ancestor= lists containers of the image and of images committed on top of it', async () => {
    ok(await d.docker(['commit', 'web', 'web-child:1']), d);
    ok(await d.docker(['create', '--name', 'kid', 'web-child:1', 'true']), d);
    const ofBusybox = ok(await d.docker(['ps', '-a', '--filter', 'ancestor=busybox', '--format', '{{.Names}}']), d).split('\n');
    assert.ok(ofBusybox.includes('web') && ofBusybox.includes('kid'), ofBusybox.join(','));
    assert.equal(ok(await d.docker(['ps', '-a', '--filter', 'ancestor=web-child:1', '--format', '{{.Names}}']), d), 'kid\n');
    ok(await d.docker(['rm', 'kid']), d);
    ok(await d.docker(['rmi', 'web-child:1']), d);
  });

  it('docker cp into a paused container leaves it paused', async () => {
    ok(await d.docker(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '300']), d);
    ok(await d.docker(['pause', 'frozen']), d);
    ok(await d.docker(['cp', join(work, 'file.txt'), 'frozen:/tmp/']), d);
    assert.equal(ok(await d.docker(['inspect', '-f', '{{.State.Status}}', 'frozen']), d), 'paused\n');
    ok(await d.docker(['unpause', 'frozen']), d);
    assert.equal(ok(await d.docker(['exec', 'frozen', 'cat', '/tmp/file.txt']), d), 'one file\n');
    ok(await d.docker(['rm', '-f', 'frozen']), d);
  });

  it('docker wait prints the exit code of the container', async () => {
    ok(await d.docker(['run', '-d', '--name', 'waiter', 'busybox', 'sh', '-c', 'sleep 0.5; exit 5']), d);
    const r = await d.docker(['wait', 'waiter'], { timeoutMs: 15_000 });
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, '5\n');
    ok(await d.docker(['rm', 'waiter']), d);
  });

  it('docker attach shows the output of a running container and exits with its code', async () => {
    ok(await d.docker(['run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 1; for i in 1 2 3; do echo a$i; sleep 0.2; done; exit 4']), d);
    const r = await d.docker(['attach', 'att'], { timeoutMs: 15_000 });
    exits(r, 4, undefined, d);
    assert.equal(r.stdout, 'a1\na2\na3\n');
    ok(await d.docker(['rm', 'att']), d);
  });

  it('docker run -it gets a terminal with the size of the client\'s terminal', async () => {
    // script(1) gives the CLI a pseudo-terminal; without a terminal of its own that pty is 0x0,
    // so size it first, as a user's terminal would be.
    const cmd = `stty rows 30 cols 100; ${DOCKER} -H ${d.host} run -it --rm busybox sh -c 'tty; stty size; exit 6'`;
    const r = await run('script', ['-qfec', cmd, '/dev/null'], { holdStdin: true, env: d.env as Record<string, string>, timeoutMs: 20_000 });
    const out = r.stdout.replace(/\r/g, '');
    assert.equal(out, '/dev/pts/0\n30 100\n', `exit ${r.code} stderr ${JSON.stringify(r.stderr)}\n${d.logTail(15)}`);
    assert.equal(r.code, 6);
  });

  it('docker run -t without a terminal on the client still gives the container a tty', async () => {
    const r = await d.docker(['run', '--rm', '-t', 'busybox', 'tty']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout.replace(/\r/g, ''), '/dev/pts/0\n');
  });

  it('docker stop -t 1 stops a container that ignores SIGTERM within the timeout', async () => {
    ok(await d.docker(['run', '-d', '--name', 'stopme', 'busybox', 'sleep', '300']), d);
    const started = Date.now();
    const r = await d.docker(['stop', '-t', '1', 'stopme'], { timeoutMs: 15_000 });
    const took = Date.now() - started;
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'stopme\n');
    assert.ok(took >= 900 && took < 8000, `stop took ${took} ms`);
    assert.equal(ok(await d.docker(['inspect', 'stopme', '--format', '{{.State.Status}} {{.State.ExitCode}}']), d), 'exited 137\n');
    assert.equal(ok(await d.docker(['ps', '-q', '--filter', 'name=stopme']), d), '');
  });

  it('docker stop of a shell that traps SIGTERM ends it at once with its code', async () => {
    ok(await d.docker(['run', '-d', '--name', 'graceful', 'busybox', 'sh', '-c', "trap 'exit 143' TERM; while true; do sleep 0.1; done"]), d);
    await new Promise((r) => setTimeout(r, 300)); // let the trap be installed
    const started = Date.now();
    ok(await d.docker(['stop', '-t', '10', 'graceful'], { timeoutMs: 20_000 }), d);
    assert.ok(Date.now() - started < 5000, 'stop waited for the timeout although the process exited');
    assert.equal(ok(await d.docker(['inspect', 'graceful', '--format', '{{.State.ExitCode}}']), d), '143\n');
    ok(await d.docker(['rm', 'graceful']), d);
  });

  it('docker kill -s KILL kills the container at once', async () => {
    ok(await d.docker(['run', '-d', '--name', 'killme', 'busybox', 'sleep', '300']), d);
    const r = await d.docker(['kill', '-s', 'KILL', 'killme']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'killme\n');
    assert.equal(ok(await d.docker(['wait', 'killme'], { timeoutMs: 10_000 }), d), '137\n');
    fails(await d.docker(['kill', 'killme']), /is not running/, d);
  });

  it('docker rm removes a stopped container and refuses a running one without -f', async () => {
    const r = await d.docker(['rm', 'stopme']);
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'stopme\n');
    fails(await d.docker(['inspect', 'stopme']), /No such (object|container)/i, d);
    ok(await d.docker(['rm', 'killme']), d);

    ok(await d.docker(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']), d);
    fails(await d.docker(['rm', 'busy']), /container is running|stop the container before removing or force remove/, d);
    assert.equal(ok(await d.docker(['inspect', 'busy', '--format', '{{.State.Status}}']), d), 'running\n');
  });

  it('docker rm -f removes a running container', async () => {
    const r = await d.docker(['rm', '-f', 'busy'], { timeoutMs: 15_000 });
    exits(r, 0, undefined, d);
    assert.equal(r.stdout, 'busy\n');
    assert.equal(ok(await d.docker(['ps', '-aq', '--filter', 'name=busy']), d), '');
    fails(await d.docker(['rm', 'busy']), /No such container: busy/, d);
  });

  it('docker restart gives a stopped container a new process', async () => {
    const before = ok(await d.docker(['inspect', 'web', '--format', '{{.State.Pid}}']), d).trim();
    ok(await d.docker(['restart', '-t', '1', 'web'], { timeoutMs: 20_000 }), d);
    const after = await eventually(async () => {
      const s = ok(await d.docker(['inspect', 'web', '--format', '{{.State.Status}} {{.State.Pid}}']), d).trim();
      return s.startsWith('running ') ? s.split(' ')[1] : undefined;
    }, 'web running again');
    assert.notEqual(after, before);
  });
});
