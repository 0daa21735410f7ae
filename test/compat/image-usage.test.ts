/**
 * The docker CLI and hako's side by side against one hakod: image history, image prune -a with
 * until=, system df (-v), and image events (docker events --filter type=image). Where both
 * CLIs print the same table, hako's output must equal docker's (moving "x seconds ago" aside).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { startHakoRegistry } from '../integration/registry/helpers.js';
import { ok, fails } from './expect.js';

/** Relative times tick between two runs; everything else must match. */
// The relative times, and the column widths they set, move between the two runs: both go.
const steady = (s: string) => s.replace(/(Less than a second|About a minute|\d+ (second|minute)s?) ago/g, 'N ago').replace(/ {2,}/g, '  ');

describe('docker and hako CLIs: image history, image prune, system df, image events', () => {
  let d: Hakod;
  let reg: Awaited<ReturnType<typeof startHakoRegistry>>;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-usage-'));
  let mineId = '';
  before(async () => {
    d = await startHakod();
    reg = await startHakoRegistry();
    ok(await d.docker(['run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo hi > /f']), d);
    ok(await d.docker(['commit', '-m', 'a comment', '-c', 'LABEL team=blue', 'maker', 'mine:1']), d);
    ok(await d.docker(['rm', 'maker']), d);
    mineId = ok(await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'mine:1']), d).trim();
  });
  after(async () => {
    try { await d?.stop(); } finally {
      await reg?.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  const both = async (args: string[]): Promise<string> => {
    const a = ok(await d.docker(args), d);
    const b = ok(await d.hako(args), d);
    assert.equal(steady(b), steady(a), `hako ${args.join(' ')} prints what docker prints`);
    return a;
  };

  it('image history: the table, --no-trunc, -H=false, -q and --format agree with docker', async () => {
    const table = await both(['image', 'history', 'mine:1']);
    const [header, top, base] = table.trimEnd().split('\n');
    assert.match(header ?? '', /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(top ?? '', new RegExp(`^${mineId.slice(7, 19)}\\s+.* ago\\s+sh -c echo hi > /f\\s+3B\\s+a comment$`));
    assert.match(base ?? '', /\s1\.\d\dMB\s+Imported from -$/, 'sizes with 3 digits, as docker');
    assert.match(await both(['history', '--no-trunc', 'mine:1']), new RegExp(`^${mineId}\\s`, 'm'));
    const raw = await both(['history', '-H=false', 'mine:1']);
    assert.match(raw, /^IMAGE\s+CREATED AT\s+CREATED BY\s+SIZE\s+COMMENT$/m);
    assert.match(raw, /^\w{12}\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)\s+sh -c echo hi > \/f\s+3\s+a comment$/m);
    assert.equal(await both(['history', '-q', 'mine:1']), `${mineId.slice(7, 19)}\n${(await both(['history', '-q', 'mine:1'])).split('\n')[1]}\n`);
    assert.match(await both(['history', '-q', '--no-trunc', 'mine:1']), new RegExp(`^${mineId}$`, 'm'));
    const fmt = await both(['history', '--format', '{{.ID}}|{{.CreatedAt}}|{{.Size}}|{{.Comment}}', '-H=false', 'mine:1']);
    assert.match(fmt, /^\w{12}\|\d{4}-\d\d-\d\dT[\d:]+(Z|[+-]\d\d:\d\d)\|3\|a comment$/m);
    fails(await d.hako(['history', 'nosuch:1']), /No such image: nosuch:1/, d);
  });

  it('system df and df -v: images count shared layers once; the same tables as docker', async () => {
    ok(await d.docker(['volume', 'create', 'dfvol']), d);
    ok(await d.docker(['run', '-d', '--name', 'dfuser', '-v', 'dfvol:/data', 'busybox', 'sleep', '60']), d);
    try {
      const sum = await both(['system', 'df']);
      const busyboxSize = Number(ok(await d.docker(['image', 'inspect', '-f', '{{.Size}}', 'busybox']), d).trim());
      const images = sum.split('\n').find((l) => l.startsWith('Images')) ?? '';
      // mine:1 stacks 3 bytes on busybox's layer: the total is busybox + 3B, not twice busybox.
      const [, total, active, size] = /^Images\s+(\d+)\s+(\d+)\s+(\S+)/.exec(images) ?? [];
      assert.equal(total, '2');
      assert.equal(active, '1');
      assert.equal(size, `${(Math.round((busyboxSize + 3) / 1000) / 1000).toFixed(3).replace(/\.?0+$/, '')}MB`);
      assert.match(sum, /^Containers\s+1\s+1\s+\S+\s+0B \(0%\)$/m, 'a running container is not reclaimable');
      assert.match(sum, /^Local Volumes\s+1\s+1\s+\S+\s+0B/m);
      assert.match(sum, /^Build Cache\s+0\s+0\s+0B\s+0B$/m);
      const v = await both(['system', 'df', '-v']);
      assert.match(v, /^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/m);
      assert.match(v, /^mine\s+1\s+\w{12}\s+.+ago\s+\S+MB\s+\S+MB\s+3B\s+0$/m, 'mine:1 shares busybox\'s layer and owns 3 bytes');
      assert.match(v, /^busybox\s+latest\s+\w{12}\s+.+ago\s+\S+MB\s+\S+MB\s+0B\s+1$/m);
      assert.match(v, /\n\nContainers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n\w{12}\s+busybox\s+"sleep 60"\s+1\s/);
      assert.match(v, /\n\nLocal Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\ndfvol\s+1\s+\S+\n\nBuild cache usage: 0B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED\n$/);
    } finally {
      await d.docker(['rm', '-f', 'dfuser']);
      await d.docker(['volume', 'rm', 'dfvol']);
    }
  });

  it('image prune -a keeps what containers use, honours until=, refuses a bad filter', async () => {
    ok(await d.docker(['tag', 'mine:1', 'mine:2']), d);
    ok(await d.docker(['create', '--name', 'keeper', 'busybox', 'true']), d);
    try {
      assert.equal(ok(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'until=1h']), d), 'Total reclaimed space: 0B\n');
      assert.equal(ok(await d.hako(['image', 'prune', '-a', '-f', '--filter', 'until=1h']), d), 'Total reclaimed space: 0B\n');
      fails(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'until=soon']), /invalid filter 'until=soon'/, d);
      fails(await d.hako(['image', 'prune', '-a', '-f', '--filter', 'until=1h', '--filter', 'until=2h']), /more than one until filter specified/, d);
      fails(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'colour=red']), /invalid filter 'colour'/, d);
      const out = ok(await d.docker(['image', 'prune', '-a', '-f', '--filter', 'until=2099-01-01T00:00:00Z']), d);
      assert.match(out, /^Deleted Images:\nuntagged: mine:1\nuntagged: mine:2\ndeleted: sha256:\w{64}\n/);
      assert.match(out, new RegExp(`^deleted: ${mineId}$`, 'm'));
      assert.match(out, /\nTotal reclaimed space: 3B\n$/);
      assert.equal(ok(await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']), d), 'busybox:latest\n', 'busybox stays: a container uses it');
    } finally {
      await d.docker(['rm', '-f', 'keeper']);
    }
  });

  it('image events: pull, push, tag, untag, delete, import, load, save through docker events --filter type=image', async () => {
    const since = ok(await d.docker(['system', 'info', '-f', '{{.SystemTime}}']), d).trim();
    const name = `127.0.0.1:${reg.port}/ev/bb`;
    ok(await d.docker(['tag', 'busybox', `${name}:1`]), d);
    ok(await d.docker(['push', `${name}:1`]), d);
    ok(await d.docker(['rmi', `${name}:1`]), d);
    ok(await d.docker(['pull', `${name}:1`]), d);
    const tar = join(work, 'ev.tar');
    ok(await d.docker(['save', '-o', tar, `${name}:1`]), d);
    ok(await d.docker(['load', '-i', tar]), d);
    const imported = ok(await d.shell(`docker export $(docker create busybox) | docker import -c 'LABEL origin=imp' - ev/imp:1`), d).trim();
    ok(await d.docker(['rmi', 'ev/imp:1']), d);
    const until = ok(await d.docker(['system', 'info', '-f', '{{.SystemTime}}']), d).trim();
    const args = ['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'];
    const seen = ok(await d.docker(args), d).trim().split('\n');
    const bbId = ok(await d.docker(['image', 'inspect', '-f', '{{.Id}}', 'busybox']), d).trim();
    assert.deepEqual(seen, [
      `image tag ${bbId} ${name}:1`,
      `image push ${name}:1 ${name}`,
      // rmi of the tag also drops the repo digest the push recorded: two untags, as dockerd.
      `image untag ${bbId} ${bbId}`,
      `image untag ${bbId} ${bbId}`,
      `image pull ${name}:1 ${name}`,
      `image save ${bbId} ${bbId}`,
      `image load ${bbId} ${bbId}`,
      `image import ${imported} ${imported}`,
      `image untag ${imported} ${imported}`,
      `image delete ${imported} ${imported}`,
    ]);
    // Labels of the image ride along, as dockerd's do; other types are filtered out.
    const imp = ok(await d.docker(['events', '--since', since, '--until', until, '--filter', 'type=image', '--filter', 'event=import', '--format', '{{.Actor.Attributes.origin}}']), d);
    assert.equal(imp, 'imp\n');
    assert.equal(ok(await d.hako(args), d).trim().split('\n').length, seen.length, 'hako events sees the same');
  });
});
