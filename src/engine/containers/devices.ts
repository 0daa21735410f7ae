/**
 * Host device nodes for `--device` and `--privileged` (moby oci/devices_linux.go): a device file
 * (or every device under a directory) on the host becomes a node in the container's /dev and a
 * cgroup rule allowing it. `--privileged` gets every device of the host's /dev.
 */
import { readdirSync, statSync, lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidArgument } from '../../errdefs/index.js';
import type { DeviceSetting } from '../../runtime/index.js';

/** Linux's dev_t split (glibc major()/minor()). */
export function majorMinor(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  const major = Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn));
  const minor = Number((r & 0xffn) | ((r >> 12n) & ~0xffn));
  return { major, minor };
}

function deviceAt(hostPath: string, ctrPath: string, permissions: string): DeviceSetting | null {
  const st = statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
  if (!type) return null;
  const { major, minor } = majorMinor(st.rdev);
  return { path: ctrPath, type, major, minor, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid, permissions };
}

/** `--device /dev/x[:/dev/y[:rwm]]` as HostConfig.Devices entries. */
export function devicesOf(entries: Array<{ PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }>): DeviceSetting[] {
  const out: DeviceSetting[] = [];
  for (const e of entries) {
    const host = e.PathOnHost ?? '';
    const ctr = e.PathInContainer || host;
    const perms = e.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw new InvalidArgument(`invalid device mode "${perms}" for ${host}: use a combination of r, w and m`);
    if (!host.startsWith('/')) throw new InvalidArgument(`invalid device path "${host}": must be an absolute host path`);
    if (!ctr.startsWith('/')) throw new InvalidArgument(`invalid device path in container "${ctr}": must be absolute`);
    let st;
    try {
      st = statSync(host);
    } catch {
      throw new InvalidArgument(`error gathering device information while adding custom device "${host}": no such file or directory`);
    }
    if (st.isDirectory()) {
      for (const d of walk(host)) {
        const dev = deviceAt(d, posix.join(ctr, posix.relative(host, d)), perms);
        if (dev) out.push(dev);
      }
      continue;
    }
    const dev = deviceAt(host, ctr, perms);
    if (!dev) throw new InvalidArgument(`error gathering device information while adding custom device "${host}": not a device node`);
    out.push(dev);
  }
  return out;
}

const SKIP = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function walk(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (!SKIP.has(name)) out.push(...walk(p));
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      // /dev/console is the container's own terminal; runc makes it.
      if (p !== '/dev/console') out.push(p);
    }
  }
  return out;
}

/** Every device node of the host's /dev (for --privileged). */
export function hostDevices(root = '/dev'): DeviceSetting[] {
  const out: DeviceSetting[] = [];
  for (const p of walk(root)) {
    try {
      const dev = deviceAt(p, p, 'rwm');
      if (dev) out.push(dev);
    } catch {
      // Vanished while walking: not there to give.
    }
  }
  return out;
}
