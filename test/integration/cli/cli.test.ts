/**
 * The `hako` CLI against a real hakod (runc + conmon, as root): what a user types and sees, with
 * docker's exit codes. Skips when hakod cannot start here.
 */
import assert from 'node:assert/strict';
import { describe, test, after } from 'node:test';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './support.js';

const started = await startDaemon();
const daemon = typeof started === 'string' ? null : started;
const skip = typeof started === 'string' ? started : false;
const hako = (...args: string[]) => (daemon as Daemon).hako(args);

after(async () => { await daemon?.stop(); });

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'hako-cli-case-'));
}

describe('hako against a real daemon', { skip }, () => {
  test('run --rm echo prints the output and exits 0', async () => {
    const r = await hako('run', '--rm', 'busybox', 'echo', 'hello', 'world');
    assert.equal(r.stdout, 'hello world\n');
    assert.equal(r.code, 0, r.stderr);
    const ps = await hako('ps', '-aq');
    assert.equal(ps.stdout, '');
  });

  test('run exits with the container\'s status and keeps stdout and stderr apart', async () => {
    const r = await hako('run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3');
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('run exits 127 for a command that does not exist and 126 for one that cannot run', async () => {
    const notFound = await hako('run', '--rm', 'busybox', 'nosuchcmd');
    assert.equal(notFound.code, 127, notFound.stderr);
    assert.match(notFound.stderr, /^hako: Error response from daemon: .*nosuchcmd.*\n\nRun 'hako run --help' for more information\n$/s);
    const denied = await hako('run', '--rm', 'busybox', '/etc/passwd');
    assert.equal(denied.code, 126, denied.stderr);
  });

  test('run exits 125 when the image is missing', async () => {
    const r = await hako('run', '--rm', 'nosuchimage');
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Unable to find image 'nosuchimage:latest' locally\n/);
  });

  test('run -i passes stdin to the container', async () => {
    const r = await daemon!.hako(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; exit 4'], { input: 'from stdin\n' });
    assert.equal(r.stdout, 'from stdin\n');
    assert.equal(r.code, 4);
  });

  test('run -e, -w, -u and --entrypoint reach the process', async () => {
    const r = await hako('run', '--rm', '-e', 'A=1', '-w', '/tmp', '-u', '1001', '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $(pwd) $(id -u)');
    assert.equal(r.stdout, '1 /tmp 1001\n', r.stderr);
  });

  test('run --env-file and --label-file read files; a missing one exits 125', async () => {
    const dir = tmp();
    try {
      writeFileSync(join(dir, 'e.env'), '# comment\nFROM_FILE=yes\n');
      writeFileSync(join(dir, 'l.txt'), 'tier=web\n');
      const r = await hako('run', '--name', 'envy', '--env-file', join(dir, 'e.env'), '--label-file', join(dir, 'l.txt'), 'busybox', 'sh', '-c', 'echo $FROM_FILE');
      assert.equal(r.stdout, 'yes\n', r.stderr);
      assert.equal((await hako('inspect', '-f', '{{index .Config.Labels "tier"}}', 'envy')).stdout, 'web\n');
      const missing = await hako('run', '--rm', '--env-file', join(dir, 'nope'), 'busybox', 'true');
      assert.equal(missing.code, 125);
      assert.match(missing.stderr, /^hako: --env-file: open .*nope: no such file or directory\n/);
    } finally {
      await hako('rm', 'envy');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('run -d prints the full id; logs, stop and rm follow', async () => {
    const d = await hako('run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'echo started; trap "exit 0" TERM; while true; do sleep 0.1; done');
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('started'); i++) {
      logs = (await hako('logs', 'ticker')).stdout;
      if (!logs.includes('started')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(logs, 'started\n');
    const ps = await hako('ps', '--format', '{{.Names}} {{.State}}');
    assert.match(ps.stdout, /^ticker running$/m);
    assert.equal((await hako('stop', 'ticker')).stdout, 'ticker\n');
    const status = await hako('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'ticker');
    assert.equal(status.stdout, 'exited 0\n');
    assert.equal((await hako('rm', 'ticker')).stdout, 'ticker\n');
    const gone = await hako('rm', 'ticker');
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error response from daemon: No such container: ticker\n');
  });

  test('exec runs in a running container and exits with the command\'s status', async () => {
    assert.equal((await hako('run', '-d', '--name', 'ex', 'busybox', 'sleep', '30')).code, 0);
    try {
      const r = await hako('exec', '-e', 'X=y', 'ex', 'sh', '-c', 'echo $X; exit 5');
      assert.equal(r.stdout, 'y\n');
      assert.equal(r.code, 5);
      const i = await daemon!.hako(['exec', '-i', 'ex', 'cat'], { input: 'piped' });
      assert.equal(i.stdout, 'piped');
    } finally {
      await hako('rm', '-f', 'ex');
    }
  });

  test('ps filters by status and name; -q prints short ids', async () => {
    const id = (await hako('create', '--name', 'idle', 'busybox', 'true')).stdout.trim();
    try {
      assert.match(id, /^[0-9a-f]{64}$/);
      const created = await hako('ps', '-a', '--filter', 'status=created', '--format', '{{.Names}}');
      assert.match(created.stdout, /^idle$/m);
      const running = await hako('ps', '--filter', 'name=idle', '-q');
      assert.equal(running.stdout, '');
      assert.equal((await hako('ps', '-aq', '--filter', 'name=idle')).stdout, `${id.slice(0, 12)}\n`);
      const table = await hako('ps', '-a', '--filter', 'name=idle');
      assert.match(table.stdout, /^CONTAINER ID {3}IMAGE {5}COMMAND {3}CREATED {2,}STATUS {2,}PORTS {3,}NAMES\n/);
    } finally {
      await hako('rm', 'idle');
    }
  });

  test('start -a runs a created container attached', async () => {
    await hako('create', '--name', 'later', 'busybox', 'sh', '-c', 'echo later; exit 6');
    try {
      const r = await hako('start', '-a', 'later');
      assert.equal(r.stdout, 'later\n');
      assert.equal(r.code, 6);
    } finally {
      await hako('rm', 'later');
    }
  });

  test('inspect finds containers and images, and reports what it cannot find', async () => {
    const img = await hako('image', 'inspect', '-f', '{{.Id}}', 'busybox');
    assert.match(img.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const generic = await hako('inspect', '--format', '{{json .RepoTags}}', 'busybox');
    assert.equal(generic.stdout, '["busybox:latest"]\n');
    const missing = await hako('inspect', 'nothing-here');
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '[]\n');
    assert.equal(missing.stderr, 'Error: No such object: nothing-here\n');
  });

  test('cp copies files both ways and tars with -', async () => {
    const dir = tmp();
    try {
      await hako('create', '--name', 'cpbox', 'busybox', 'true');
      writeFileSync(join(dir, 'hello.txt'), 'hi there\n');
      mkdirSync(join(dir, 'tree/sub'), { recursive: true });
      writeFileSync(join(dir, 'tree/sub/f'), 'deep\n');
      assert.equal((await hako('cp', join(dir, 'hello.txt'), 'cpbox:/tmp/')).code, 0);
      assert.equal((await hako('cp', join(dir, 'tree'), 'cpbox:/tmp/tree2')).code, 0);
      const back = await hako('cp', 'cpbox:/tmp/hello.txt', join(dir, 'back.txt'));
      assert.equal(back.code, 0, back.stderr);
      assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), 'hi there\n');
      const tree = await hako('cp', 'cpbox:/tmp/tree2', join(dir, 'out'));
      assert.equal(tree.code, 0, tree.stderr);
      assert.equal(readFileSync(join(dir, 'out/sub/f'), 'utf8'), 'deep\n');
      const tar = await hako('cp', 'cpbox:/etc/passwd', '-');
      assert.ok(tar.out.subarray(0, 100).toString().startsWith('passwd'));
      const missing = await hako('cp', 'cpbox:/nope', join(dir, 'x'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^Error response from daemon: /);
    } finally {
      await hako('rm', 'cpbox');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('export piped into import makes a runnable image', async () => {
    const dir = tmp();
    try {
      await hako('create', '--name', 'exp', 'busybox', 'true');
      const out = join(dir, 'fs.tar');
      assert.equal((await hako('export', '-o', out, 'exp')).code, 0);
      assert.ok(existsSync(out));
      const imp = await hako('import', '-c', 'CMD ["echo","imported"]', '-m', 'from export', out, 'reimported:v1');
      assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/, imp.stderr);
      const r = await hako('run', '--rm', 'reimported:v1');
      assert.equal(r.stdout, 'imported\n', r.stderr);
    } finally {
      await hako('rm', 'exp');
      await hako('rmi', 'reimported:v1');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('save then load brings an image back', async () => {
    const dir = tmp();
    try {
      assert.equal((await hako('tag', 'busybox', 'saved:1')).code, 0);
      const tar = join(dir, 'img.tar');
      const save = await hako('save', '-o', tar, 'saved:1');
      assert.equal(save.code, 0, save.stderr);
      const rmi = await hako('rmi', 'saved:1');
      assert.equal(rmi.stdout, 'Untagged: saved:1\n');
      const load = await hako('load', '-i', tar);
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /Loaded image: saved:1/);
      const images = await hako('images', '--format', '{{.Repository}}:{{.Tag}}');
      assert.match(images.stdout, /^saved:1$/m);
    } finally {
      await hako('rmi', 'saved:1');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('commit turns a container\'s changes into an image', async () => {
    try {
      assert.equal((await hako('run', '--name', 'changer', 'busybox', 'sh', '-c', 'echo made > /made')).code, 0);
      const c = await hako('commit', '-c', 'CMD ["cat","/made"]', 'changer', 'committed:1');
      assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/, c.stderr);
      const r = await hako('run', '--rm', 'committed:1');
      assert.equal(r.stdout, 'made\n');
    } finally {
      await hako('rm', 'changer');
      await hako('rmi', 'committed:1');
    }
  });

  test('images lists the imported busybox in docker\'s table', async () => {
    const r = await hako('images');
    assert.match(r.stdout, /^REPOSITORY {3}TAG {7}IMAGE ID {7}CREATED {2,}SIZE\n/);
    assert.match(r.stdout, /^busybox {6}latest {4}[0-9a-f]{12} {3}/m);
  });

  test('a stopped container cannot be attached to', async () => {
    await hako('create', '--name', 'still', 'busybox', 'true');
    try {
      const r = await hako('attach', 'still');
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'You cannot attach to a stopped container, start it first\n');
    } finally {
      await hako('rm', 'still');
    }
  });
});
