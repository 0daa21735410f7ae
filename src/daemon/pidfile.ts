/**
 * The daemon's pid file. A file naming a live hakod is refused (two daemons on one data root
 * would corrupt it); one naming a dead or unrelated process is stale and overwritten.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Conflict } from '../errdefs/index.js';

export async function writePidfile(file: string, pid = process.pid): Promise<void> {
  const owner = await runningOwner(file);
  if (owner !== null && owner !== pid) {
    throw new Conflict(`pid file ${file} names a running hakod (pid ${owner}): stop it first, or remove the file if that process is not hakod`);
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${pid}\n`);
}

export async function removePidfile(file: string): Promise<void> {
  await rm(file, { force: true });
}

async function runningOwner(file: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /hakod|daemon\/main/.test(cmdline) ? pid : null;
  } catch {
    return null;
  }
}
