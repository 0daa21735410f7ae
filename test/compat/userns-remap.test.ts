/**
 * hakod with daemon.json "userns-remap": "default" (its own data root), driven by the docker CLI:
 * root in the container is uid 0 there and an unprivileged uid on the host.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, type Hakod } from '../support/hakod.js';
import { ok, fails } from './expect.js';

/** The first subordinate range of `name` in /etc/subuid or /etc/subgid. */
function subordinate(file: string, name: string): number {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `hakod should have given ${name} a range in ${file}`);
  return Number(line.split(':')[1]);
}

describe('docker CLI against a hakod with userns-remap', () => {
  let d: Hakod;
  let uid = -1;
  let gid = -1;
  const work = mkdtempSync(join(tmpdir(), 'hako-compat-userns-'));
  const shared = join(work, 'shared');
  before(async () => {
    const config = join(work, 'daemon.json');
    writeFileSync(config, JSON.stringify({ 'userns-remap': 'default' }));
    d = await startHakod({ args: ['--config-file', config], rootMode: 0o711 });
    uid = subordinate('/etc/subuid', 'hako-remap');
    gid = subordinate('/etc/subgid', 'hako-remap');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
  });
  after(async () => {
    try { await d?.stop(); } finally { rmSync(work, { recursive: true, force: true }); }
  });

  it('id says root in the container, /proc/self/uid_map shows the map, and a file made on a bind mount belongs to the remapped uid', async () => {
    const out = ok(await d.docker(['run', '--rm', '-v', `${shared}:/shared`, 'busybox', 'sh', '-c',
      'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; echo hi > /shared/made-in-container']), d);
    const [u, g, uidMap, gidMap] = out.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(u, '0');
    assert.equal(g, '0');
    assert.equal(uidMap, `0 ${uid} 65536`);
    assert.equal(gidMap, `0 ${gid} 65536`);
    const st = statSync(join(shared, 'made-in-container'));
    assert.equal(st.uid, uid);
    assert.equal(st.gid, gid);
  });

  it('root in the container cannot write a root-owned host file through a bind mount, nor make a block device', async () => {
    const hostFile = join(shared, 'host-owned');
    writeFileSync(hostFile, 'host\n', { mode: 0o644 });
    fails(await d.docker(['run', '--rm', '-v', `${shared}:/shared`, 'busybox', 'sh', '-c', 'echo evil >> /shared/host-owned']), /Permission denied/, d);
    assert.equal(readFileSync(hostFile, 'utf8'), 'host\n');
    fails(await d.docker(['run', '--rm', '-v', `${shared}:/shared`, 'busybox', 'mknod', '/shared/blk', 'b', '7', '0']), /Operation not permitted/, d);
    // The container's own view: host root's files are nobody's.
    assert.equal(ok(await d.docker(['run', '--rm', '-v', `${shared}:/shared`, 'busybox', 'stat', '-c', '%u', '/shared/host-owned']), d), '65534\n');
  });

  it('image files show as root inside; what the container writes to its rootfs and to a named volume is the remapped root\'s on the host', async () => {
    const id = ok(await d.docker(['create', '-v', 'remapped:/data', 'busybox', 'sh', '-c', 'stat -c %u:%g /bin/busybox /; touch /in-rootfs /data/in-volume']), d).trim();
    ok(await d.docker(['start', '-a', id]), d);
    const logs = ok(await d.docker(['logs', id]), d);
    assert.equal(logs, '0:0\n0:0\n');
    const root = join(d.dataRoot, `${uid}.${gid}`);
    assert.equal(statSync(join(root, 'containers', id, 'diff', 'in-rootfs')).uid, uid);
    const volume = join(root, 'volumes', 'remapped', '_data');
    assert.equal(statSync(volume).uid, uid);
    assert.equal(statSync(join(volume, 'in-volume')).uid, uid);
    const info = JSON.parse(ok(await d.docker(['volume', 'inspect', 'remapped']), d)) as Array<{ Mountpoint: string }>;
    assert.equal(info[0]!.Mountpoint, volume);
    ok(await d.docker(['rm', '-v', id]), d);
  });

  it('exec runs in the container\'s namespaces; cp, export and commit carry the container\'s ids, not the host\'s', async () => {
    ok(await d.docker(['run', '-d', '--name', 'live', 'busybox', 'sleep', '60']), d);
    assert.equal(ok(await d.docker(['exec', 'live', 'sh', '-c', 'id -u; touch /owned; chown 7:8 /owned; ip -4 -o addr show eth0 | wc -l; echo 10.0.0.9 extra >> /etc/hosts && tail -1 /etc/hosts']), d), '0\n1\n10.0.0.9 extra\n');
    const src = join(work, 'copied');
    writeFileSync(src, 'in\n');
    ok(await d.docker(['cp', src, 'live:/copied']), d);
    assert.equal(ok(await d.docker(['exec', 'live', 'stat', '-c', '%u:%g', '/copied', '/owned']), d), '0:0\n7:8\n');
    const listing = ok(await d.shell(`docker -H ${d.host} export live | tar -tvf - owned copied`), d);
    assert.match(listing, /^-rw-r--r-- 0\/0 .* copied$/m);
    assert.match(listing, /^-rw-r--r-- 7\/8 .* owned$/m);
    ok(await d.docker(['commit', 'live', 'remapped:committed']), d);
    assert.equal(ok(await d.docker(['run', '--rm', 'remapped:committed', 'stat', '-c', '%u:%g', '/owned', '/copied']), d), '7:8\n0:0\n');
    ok(await d.docker(['rm', '-f', 'live']), d);
    ok(await d.docker(['rmi', 'remapped:committed']), d);
  });

  it('--userns=host runs a container without the remap: real root, the host\'s user namespace, layers with their real ids', async () => {
    const hostUserns = readlinkSync('/proc/self/ns/user');
    const out = ok(await d.docker(['run', '--name', 'unmapped', '--userns', 'host', '-v', `${shared}:/shared`, 'busybox', 'sh', '-c',
      'id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; stat -c %u:%g /bin/busybox; touch /in-rootfs; echo hi > /shared/made-unmapped; ip -4 -o addr show eth0 | wc -l']), d);
    const [u, uidMap, userns, owner, addrs] = out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(u, '0');
    assert.equal(uidMap, '0 0 4294967295');
    assert.equal(userns, hostUserns);
    assert.equal(owner, '0:0');
    assert.equal(addrs, '1', 'it is on the default bridge network as any other container');
    assert.equal(statSync(join(shared, 'made-unmapped')).uid, 0);
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}} {{.HostConfig.UsernsMode}}', 'unmapped']), d).trim().split(' ');
    assert.equal(id[1], 'host');
    assert.equal(statSync(join(d.dataRoot, `${uid}.${gid}`, 'containers', id[0]!, 'diff', 'in-rootfs')).uid, 0);
    ok(await d.docker(['rm', 'unmapped']), d);
    // What only a user namespace rules out is allowed again, as in docker; exec runs unmapped too.
    assert.equal(ok(await d.docker(['run', '--rm', '--userns', 'host', '--net', 'host', '--pid', 'host', 'busybox', 'sh', '-c', 'cat /proc/1/comm; readlink /proc/self/ns/net']), d),
      `${readFileSync('/proc/1/comm', 'utf8').trim()}\n${readlinkSync('/proc/self/ns/net')}\n`);
    ok(await d.docker(['run', '-d', '--name', 'unmapped-priv', '--userns', 'host', '--privileged', 'busybox', 'sleep', '60']), d);
    assert.equal(ok(await d.docker(['exec', 'unmapped-priv', 'cat', '/proc/self/uid_map']), d).trim().split(/\s+/).join(' '), '0 0 4294967295');
    // cp, export and commit carry its ids as they are (no remap to translate).
    ok(await d.docker(['exec', 'unmapped-priv', 'sh', '-c', 'touch /owned; chown 7:8 /owned']), d);
    const src = join(work, 'copied-unmapped');
    writeFileSync(src, 'in\n');
    ok(await d.docker(['cp', src, 'unmapped-priv:/copied']), d);
    assert.equal(ok(await d.docker(['exec', 'unmapped-priv', 'stat', '-c', '%u:%g', '/copied', '/owned']), d), '0:0\n7:8\n');
    const listing = ok(await d.shell(`docker -H ${d.host} export unmapped-priv | tar -tvf - owned copied bin/busybox`), d);
    assert.match(listing, /^-rw-r--r-- 0\/0 .* copied$/m);
    assert.match(listing, /^-rw-r--r-- 7\/8 .* owned$/m);
    assert.match(listing, /^-rwxr-xr-x 0\/0 .* bin\/busybox$/m);
    ok(await d.docker(['commit', 'unmapped-priv', 'unmapped:committed']), d);
    assert.equal(ok(await d.docker(['run', '--rm', 'unmapped:committed', 'stat', '-c', '%u:%g', '/owned', '/copied']), d), '7:8\n0:0\n');
    ok(await d.docker(['rm', '-f', 'unmapped-priv']), d);
    ok(await d.docker(['rmi', 'unmapped:committed']), d);
  });

  it('--ipc shareable /dev/shm is the remapped root\'s, and a container started with --ipc container:x shares it', async () => {
    ok(await d.docker(['run', '-d', '--name', 'shm-remapped', '--ipc', 'shareable', 'busybox', 'sleep', '60']), d);
    assert.equal(ok(await d.docker(['exec', 'shm-remapped', 'sh', '-c', 'echo x > /dev/shm/f; stat -c %u /dev/shm/f']), d), '0\n');
    assert.equal(ok(await d.docker(['run', '--rm', '--ipc', 'container:shm-remapped', 'busybox', 'cat', '/dev/shm/f']), d), 'x\n');
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'shm-remapped']), d).trim();
    assert.equal(statSync(join(d.dataRoot, `${uid}.${gid}`, 'containers', id, 'mounts', 'shm', 'f')).uid, uid);
    ok(await d.docker(['rm', '-f', 'shm-remapped']), d);
  });

  it('options a user namespace rules out are refused and create nothing', async () => {
    fails(await d.docker(['run', '--rm', '--privileged', 'busybox', 'true']), /privileged mode is incompatible with user namespaces/, d);
    fails(await d.docker(['run', '--rm', '--net', 'host', 'busybox', 'true']), /host's network namespace when user namespaces are enabled/, d);
    assert.equal(ok(await d.docker(['ps', '-aq']), d), '');
  });
});
