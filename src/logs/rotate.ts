/**
 * Size-based rotation for `--log-opt max-size=… max-file=…`, docker json-file semantics:
 * when the file grows past max-size it becomes `<path>.1` (older ones shift to `.2` …, the one
 * past `max-file - 1` is dropped; with max-file 1 the old content is dropped), then conmon is told
 * to reopen its log (the engine writes "2 0 0\n" to conmon's ctl fifo: REOPEN_LOGS_EVENT in
 * conmon's ctrl.c), which makes it start a fresh file under the same name.
 *
 * The size is checked on change notifications (inotify on the directory), throttled: no timer
 * runs while the container is quiet.
 */

import { rename, stat, unlink } from 'node:fs/promises';
import type { LogFiles } from './reader.js';
import { FileChanges } from './watch.js';

export interface LogRotatorOptions {
  /** The log file conmon writes. */
  path: string;
  /** Bytes; 0 or less disables rotation. */
  maxSize: number;
  /** Files kept in all, the current one included (docker's max-file, at least 1). */
  maxFiles: number;
  /** Asks conmon to reopen the log file (a new file appears under `path`). */
  reopen: () => Promise<void>;
  /** Rotation failures (a rename, the reopen); default: ignored, the next change retries. */
  onError?: (err: unknown) => void;
  /** Minimum time between two size checks, in ms. Default 100. */
  throttleMs?: number;
}

export interface LogRotator {
  /** Checks the size now and rotates if needed; resolves when that rotation is done. */
  check(): Promise<void>;
  /** Stops watching. A rotation in progress completes. */
  close(): void;
}

/** The current file and the rotated ones that may exist, oldest first, for `readLogs`. */
export function logFiles(path: string, maxFiles: number): LogFiles {
  const rotated: string[] = [];
  for (let i = Math.max(1, maxFiles) - 1; i >= 1; i--) rotated.push(`${path}.${i}`);
  return { current: path, rotated };
}

async function ignoreMissing(op: Promise<void>): Promise<void> {
  try {
    await op;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Shifts `.1` → `.2` … and moves the current file to `.1` (or drops it when max-file is 1). */
async function rotateFiles(path: string, maxFiles: number): Promise<void> {
  if (maxFiles <= 1) {
    await ignoreMissing(unlink(path));
    return;
  }
  // rename() replaces the target, so the oldest kept file (.maxFiles-1) is dropped by the first shift.
  for (let i = maxFiles - 1; i >= 2; i--) await ignoreMissing(rename(`${path}.${i - 1}`, `${path}.${i}`));
  await ignoreMissing(rename(path, `${path}.1`));
}

export function createLogRotator(opts: LogRotatorOptions): LogRotator {
  const { path, maxSize, reopen } = opts;
  const maxFiles = Math.max(1, Math.floor(opts.maxFiles));
  const throttleMs = opts.throttleMs ?? 100;
  const onError = opts.onError ?? (() => {});
  if (!(maxSize > 0)) return { check: async () => {}, close: () => {} };

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const checkOnce = async (): Promise<void> => {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return; // not there (between a rotation and conmon's reopen, or before start)
    }
    if (size < maxSize) return;
    await rotateFiles(path, maxFiles);
    await reopen();
  };

  const check = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await checkOnce().catch(onError);
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  // Throttled: a busy container writes thousands of times a second; one stat per period is enough.
  const changes = new FileChanges(path, () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, throttleMs);
    timer.unref();
  });

  return {
    check,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      changes.close();
    },
  };
}
