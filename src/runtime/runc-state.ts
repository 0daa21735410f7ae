/**
 * Two of runc's own steps done in-process, because each `runc` spawn costs ~6 ms on the `run`
 * hot path (a Go binary starting). Both follow runc 1.1's libcontainer exactly and fall back to
 * the runc command whenever the state is not the simple case:
 *
 * - start: `runc start` only opens the container's exec fifo for reading; runc init, blocked
 *   opening it for writing, then writes one byte and execs the user's process; runc reads to EOF
 *   and removes the fifo (libcontainer container_linux.go exec/handleFifoResult).
 * - delete of a stopped container: runc destroys its cgroups (rmdir of each path in state.json's
 *   cgroup_paths) and removes its state directory (libcontainer state_linux.go destroy).
 */
import { open, readFile, rmdir, unlink } from 'node:fs/promises';
import { constants as fsc, rmSync } from 'node:fs';
import { join } from 'node:path';

/** How long to wait for runc init to take the fifo before handing over to `runc start`. */
const FIFO_WAIT_MS = 1000;

/**
 * Starts a created container through its exec fifo. Resolves true when started, false when the
 * caller should run `runc start` instead (no fifo, the process did not answer in time).
 */
export async function startThroughFifo(stateDir: string): Promise<boolean> {
  const fifo = join(stateDir, 'exec.fifo');
  let reading: Promise<Buffer> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    reading = readFile(fifo);
    const data = await Promise.race([
      reading,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), FIFO_WAIT_MS);
      }),
    ]);
    if (data === null) {
      // init never opened its end (it died): open the write side ourselves to free our read.
      const w = await open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK).catch(() => null);
      await w?.close();
      await reading.catch(() => undefined);
      return false;
    }
    if (data.length === 0) return false;
    await unlink(fifo).catch(() => undefined);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

interface RuncStateFile {
  cgroup_paths?: Record<string, string>;
  init_process_pid?: number;
}

/**
 * Removes what runc keeps for a container whose process has exited. Resolves false (nothing
 * touched that runc would still need) when it is not that simple case; `runc delete` then decides.
 */
export async function deleteStopped(stateDir: string, pid: number): Promise<boolean> {
  let state: RuncStateFile;
  try {
    state = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as RuncStateFile;
  } catch {
    return false;
  }
  const initPid = state.init_process_pid ?? pid;
  if (await processAlive(initPid)) return false;
  // Hybrid v1 has one path per hierarchy, each removed on its own (a cgroup rmdir waits for the
  // kernel to take the group offline): all at once, except that a path nested in another of the
  // set goes first, so a parent's rmdir never meets a child.
  const paths = [...new Set(Object.values(state.cgroup_paths ?? {}))];
  const nested = paths.filter((p) => paths.some((q) => q.startsWith(p + '/')));
  const leaves = await Promise.all(paths.filter((p) => !nested.includes(p)).map(removeCgroup));
  if (!leaves.every(Boolean)) return false;
  for (const p of nested.sort((a, b) => b.length - a.length)) if (!(await removeCgroup(p))) return false;
  // One or two files on the exec root (a tmpfs): unlinked at once rather than through a thread
  // pool that the cgroup rmdirs above keep busy.
  rmSync(stateDir, { recursive: true, force: true });
  return true;
}

/** False when the cgroup is still busy (EBUSY: a process is still in it). */
async function removeCgroup(path: string): Promise<boolean> {
  try {
    await rmdir(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Whether process `pid` still lives: a zombie (or a dead task, X) has its pid but is gone, as runc
 * and docker take it. False for pids <= 0.
 */
export async function processAlive(pid: number): Promise<boolean> {
  if (!(pid > 0)) return false;
  try {
    return !/^\d+ \(.*\) [ZX] /.test(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
