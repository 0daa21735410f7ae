/**
 * `hako cp`: copy between a container and the local filesystem (`-` for a tar on stdin/stdout),
 * with docker's path rules: an existing directory receives the source by its name, a missing
 * destination takes the source's content under the new name, `src/.` copies a directory's contents.
 */
import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from '../command.js';
import type { Client, ArchiveStat } from '../../client/index.js';
import { StatusError } from '../errors.js';
import { packPath, unpackInto } from '../localtar.js';
import { humanSize } from '../format/index.js';

/** docker's splitCpArg: "ctr:/path" -> ["ctr", "/path"]; local paths have no container. */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/') || arg.startsWith('.')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

const GO_MODE_DIR = 0x80000000;
const GO_MODE_SYMLINK = 0x08000000;

function isDirStat(s: ArchiveStat): boolean {
  return (s.mode & GO_MODE_DIR) !== 0;
}

async function localStat(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function endsWithDot(p: string): boolean {
  return p.endsWith('/.') || p === '.';
}

async function copyFromContainer(client: Client, container: string, src: string, dest: string, follow: boolean, cli: Parameters<Command['run']>[0]): Promise<number> {
  let srcPath = src;
  if (follow) {
    const st = await client.containerStatPath(container, srcPath);
    if ((st.mode & GO_MODE_SYMLINK) !== 0 && st.linkTarget) {
      srcPath = posix.isAbsolute(st.linkTarget) ? st.linkTarget : posix.join(posix.dirname(srcPath), st.linkTarget);
    }
  }
  const { stat: st, tar } = await client.containerGetArchive(container, srcPath);
  if (dest === '-') {
    await pipeline(tar, cli.stdout, { end: false });
    return st.size;
  }
  const srcBase = st.name || posix.basename(srcPath);
  const destStat = await localStat(dest);
  if (destStat === null) {
    if (dest.endsWith('/')) {
      tar.destroy();
      throw new StatusError(1, `destination directory "${dest}" must exist`);
    }
    const parent = await localStat(dirname(dest));
    if (parent === null) {
      tar.destroy();
      throw new StatusError(1, `invalid output path: directory "${dirname(dest)}" does not exist`);
    }
    await unpackInto(tar, dirname(dest), srcBase, basename(dest));
  } else if (destStat.isDirectory()) {
    await unpackInto(tar, dest, srcBase, isDirStat(st) && endsWithDot(src) ? '' : srcBase);
  } else {
    if (isDirStat(st)) {
      tar.destroy();
      throw new StatusError(1, 'cannot copy directory to file');
    }
    await unpackInto(tar, dirname(dest), srcBase, basename(dest));
  }
  return st.size;
}

async function copyToContainer(client: Client, container: string, src: string, dest: string, opts: { follow: boolean; archive: boolean; quiet: boolean }, cli: Parameters<Command['run']>[0]): Promise<void> {
  let destStat: ArchiveStat | null = null;
  try {
    destStat = await client.containerStatPath(container, dest);
  } catch (e) {
    if ((e as { status?: number }).status !== 404) throw e;
  }
  if (destStat && (destStat.mode & GO_MODE_SYMLINK) !== 0 && destStat.linkTarget) {
    // Copying into a symlink means copying into its target (docker's resolveLocalPath on the container side).
    const target = posix.isAbsolute(destStat.linkTarget) ? destStat.linkTarget : posix.join(posix.dirname(dest), destStat.linkTarget);
    dest = target;
    destStat = await client.containerStatPath(container, target).catch(() => null);
  }
  const putOpts = { copyUIDGID: opts.archive, noOverwriteDirNonDir: true };
  if (src === '-') {
    if (!destStat || !isDirStat(destStat)) throw new StatusError(1, `destination "${container}:${dest}" must be a directory`);
    await client.containerPutArchive(container, dest, cli.stdin, putOpts);
    return;
  }
  const st = await (opts.follow ? stat(src) : lstat(src)).catch((e: NodeJS.ErrnoException) => {
    throw new StatusError(1, e.code === 'ENOENT' ? `lstat ${src}: no such file or directory` : e.message);
  });
  let putPath: string;
  let name: string;
  if (destStat && isDirStat(destStat)) {
    putPath = dest;
    name = basename(src.replace(/\/+\.?$/, '')) || '.';
    if (st.isDirectory() && endsWithDot(src)) name = '.';
  } else if (destStat) {
    if (st.isDirectory()) throw new StatusError(1, 'cannot copy directory to file');
    putPath = posix.dirname(dest);
    name = posix.basename(dest);
  } else {
    if (dest.endsWith('/')) throw new StatusError(1, `destination "${container}:${dest}" must be a directory`);
    putPath = posix.dirname(dest);
    name = posix.basename(dest);
  }
  const tar = packPath(src, name, { followLink: opts.follow });
  await client.containerPutArchive(container, putPath, tar, putOpts);
  if (opts.quiet || !cli.stderr.isTTY) return;
  cli.err(`Successfully copied ${humanSize(st.size)} to ${container}:${dest}`);
}

export const cp: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n[OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    short: 'Copy files/folders between a container and the local filesystem',
    aliases: 'hako container cp, hako cp',
    flags: [
      { name: 'archive', short: 'a', kind: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
      { name: 'follow-link', short: 'L', kind: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
    ],
    args: { min: 2, max: 2 },
  },
  async run(cli, flags, args) {
    const [srcArg, destArg] = args as [string, string];
    const [srcCtr, src] = splitCpArg(srcArg);
    const [destCtr, dest] = splitCpArg(destArg);
    if (src === '') throw new StatusError(1, 'source can not be empty');
    if (dest === '') throw new StatusError(1, 'destination can not be empty');
    if (srcCtr && destCtr) throw new StatusError(1, 'copying between containers is not supported');
    if (!srcCtr && !destCtr) throw new StatusError(1, 'must specify at least one container source');
    const client = await cli.client();
    if (srcCtr) {
      const size = await copyFromContainer(client, srcCtr, src, dest, flags.bool('follow-link'), cli);
      if (dest !== '-' && cli.stderr.isTTY && !flags.bool('quiet')) cli.err(`Successfully copied ${humanSize(size)} to ${dest}`);
    } else {
      await copyToContainer(client, destCtr, src, dest, { follow: flags.bool('follow-link'), archive: flags.bool('archive'), quiet: flags.bool('quiet') }, cli);
    }
  },
};
