/**
 * Reading a container's log files (conmon's k8s-file format) the way `docker logs` shows them:
 * rotated files oldest first, then the current one; `tail`, `since`/`until`, stream filter, and
 * `follow` across a rotation of the current file.
 */

import { open, stat, type FileHandle } from 'node:fs/promises';
import { parseRecord, type LogEntry, type RecordView } from './record.js';
import { findTailStart } from './tail.js';
import { FileChanges } from './watch.js';

export interface LogFiles {
  /** The file conmon writes now. */
  current: string;
  /** Rotated files, oldest first (`ctr.log.2`, `ctr.log.1`). */
  rotated: string[];
}

export interface ReadLogsOptions {
  /** Keep reading what is appended until `signal` aborts or `stopWhen` resolves. Default false. */
  follow?: boolean;
  /** Only the last N lines (over both streams, like docker). Default 'all'. */
  tail?: number | 'all';
  /** Unix seconds (fractions allowed); records before it are skipped. 0 = no bound. */
  since?: number;
  /** Unix seconds; records after it end the read (also in follow mode). 0 = no bound. */
  until?: number;
  /** Default true. */
  stdout?: boolean;
  /** Default true. */
  stderr?: boolean;
  /** Ends the read quietly (no error): a client that went away is not a failure. */
  signal?: AbortSignal;
  /** In follow mode: resolves when the container has exited; what is left is read, then the read ends. */
  stopWhen?: Promise<unknown>;
}

const CHUNK = 256 * 1024;
/** Safety re-check while following, in case a change notification never comes (no inotify). */
const FOLLOW_RECHECK_MS = 2000;
const LF = 0x0a;

interface Filter {
  stdout: boolean;
  stderr: boolean;
  sinceMs: number;
  untilMs: number;
}

/** Reads records forward from one open file, keeping an incomplete last record for the next read. */
class RecordReader {
  readonly fh: FileHandle;
  #pos: number;
  #carry: Buffer | undefined;
  /** Set once a record newer than `until` was seen: the reader is done. */
  pastUntil = false;

  constructor(fh: FileHandle, pos: number) {
    this.fh = fh;
    this.#pos = pos;
  }

  /**
   * Entries of the complete records in the next chunk of the file; null at its current end.
   * Batches keep the per-entry cost to parsing: one promise per chunk, not per line.
   */
  async readBatch(filter: Filter): Promise<LogEntry[] | null> {
    if (this.pastUntil) return null;
    const fresh = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await this.fh.read(fresh, 0, CHUNK, this.#pos);
    if (bytesRead === 0) return null;
    this.#pos += bytesRead;
    // Entries point into this buffer (no copy per line), so every read gets a new one.
    const buf = this.#carry ? Buffer.concat([this.#carry, fresh.subarray(0, bytesRead)]) : fresh.subarray(0, bytesRead);
    this.#carry = undefined;
    const view = this.#view;
    const out: LogEntry[] = [];
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(LF, start);
      if (lf < 0) break;
      if (parseRecord(buf, start, lf, view)) {
        const t = view.timeMs;
        if (filter.untilMs > 0 && t > filter.untilMs) {
          this.pastUntil = true;
          return out;
        }
        if ((view.stream === 'stdout' ? filter.stdout : filter.stderr) && !(t < filter.sinceMs)) {
          out.push({ stream: view.stream, data: buf.subarray(view.dataStart, view.dataEnd), time: new Date(t) });
        }
      }
      start = lf + 1;
    }
    if (start < buf.length) this.#carry = Buffer.from(buf.subarray(start));
    return out;
  }

  #view: RecordView = { timeMs: 0, stream: 'stdout', partial: false, dataStart: 0, dataEnd: 0 };

  /** Batches up to the file's current end. */
  async *drain(filter: Filter): AsyncGenerator<LogEntry[]> {
    for (;;) {
      const batch = await this.readBatch(filter);
      if (batch === null) return;
      if (batch.length > 0) yield batch;
    }
  }
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}

/**
 * Yields exactly the bytes the process wrote, record by record, in order across rotated files.
 * Binary-safe: `data` is a slice of the file; a `P` record's bytes have no trailing "\n".
 */
export function readLogs(files: LogFiles, opts: ReadLogsOptions = {}): AsyncIterable<LogEntry> {
  return flatten(readLogBatches(files, opts));
}

/** `readLogs` in batches (the records of one read, never empty): for writers that frame many at once. */
export async function* readLogBatches(files: LogFiles, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry[]> {
  const filter: Filter = {
    stdout: opts.stdout ?? true,
    stderr: opts.stderr ?? true,
    sinceMs: (opts.since ?? 0) * 1000,
    untilMs: (opts.until ?? 0) * 1000,
  };
  const follow = opts.follow ?? false;
  const signal = opts.signal;
  if (signal?.aborted) return;
  // Watch before opening, so an append or rotation between opening and following is not missed.
  const changes = follow ? new FileChanges(files.current) : undefined;
  // Open every file first: a rotation while we read renames paths but not the inodes we hold.
  const handles: FileHandle[] = [];
  let currentHandle: FileHandle | undefined;
  try {
    for (const path of files.rotated) {
      const fh = await openIfExists(path);
      if (fh) handles.push(fh);
    }
    currentHandle = await openIfExists(files.current);
    if (currentHandle) handles.push(currentHandle);
    const sizes = await Promise.all(handles.map(async (fh) => (await fh.stat()).size));
    const tail = opts.tail ?? 'all';
    const start = tail === 'all' ? { file: 0, offset: 0 } : await findTailStart(handles, sizes, Math.max(0, Math.floor(tail)));

    let reader: RecordReader | undefined;
    for (let i = start.file; i < handles.length; i++) {
      reader = new RecordReader(handles[i]!, i === start.file ? start.offset : 0);
      for await (const batch of reader.drain(filter)) {
        yield batch;
        if (signal?.aborted) return;
      }
      if (reader.pastUntil) return;
    }
    if (!follow || !changes) return;
    if (reader?.fh !== currentHandle) reader = undefined; // the current file did not exist yet

    let stopped = false;
    opts.stopWhen?.then(
      () => ((stopped = true), changes.notify()),
      () => ((stopped = true), changes.notify()),
    );
    const onAbort = (): void => changes.notify();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let currentIno = reader ? (await reader.fh.stat()).ino : undefined;
      for (;;) {
        // Seen before the drain, so a stop always gets one full drain after it.
        const stopping = stopped || changes.closed;
        if (reader) {
          for await (const batch of reader.drain(filter)) {
            yield batch;
            if (signal?.aborted) return;
          }
          if (reader.pastUntil) return;
        }
        if (signal?.aborted) return;
        const ino = await inodeOf(files.current);
        if (ino !== undefined && ino !== currentIno) {
          // Rotated: conmon closed the old file before the new one appeared under the name
          // (reopen_k8s_file), so finish the old file, then continue with the new one from its start.
          if (reader) {
            for await (const batch of reader.drain(filter)) {
              yield batch;
              if (signal?.aborted) return;
            }
            if (reader.pastUntil) return;
            if (reader.fh !== currentHandle) await reader.fh.close();
          }
          const fh = await openIfExists(files.current);
          reader = fh ? new RecordReader(fh, 0) : undefined;
          currentIno = fh ? (await fh.stat()).ino : undefined;
          continue;
        }
        if (stopping) return;
        await changes.wait(FOLLOW_RECHECK_MS);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (reader && reader.fh !== currentHandle) await reader.fh.close();
    }
  } finally {
    changes?.close();
    await Promise.all(handles.map((fh) => fh.close()));
  }
}

/**
 * Entries one by one from batches. Hand-written rather than an async generator: a generator
 * costs several promises per item, which dominates reading 200,000 short lines.
 */
function flatten<T>(batches: AsyncGenerator<T[]>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let batch: T[] = [];
      let i = 0;
      const next = async (): Promise<IteratorResult<T>> => {
        for (;;) {
          const r = await batches.next();
          if (r.done) return { value: undefined, done: true };
          batch = r.value;
          i = 0;
          if (batch.length > 0) return { value: batch[i++]!, done: false };
        }
      };
      return {
        next: () => (i < batch.length ? Promise.resolve({ value: batch[i++]!, done: false }) : next()),
        return: async () => {
          batch = [];
          await batches.return(undefined);
          return { value: undefined, done: true };
        },
      };
    },
  };
}
