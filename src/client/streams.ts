/**
 * Readers for the daemon's streaming answers: newline-delimited JSON progress messages
 * (pull, import, load) and docker's multiplexed stdout/stderr frames (logs, attach, exec without a
 * TTY; https://docs.docker.com/engine/api/v1.47/#tag/Container/operation/ContainerAttach).
 */
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { stdCopy } from '../stdcopy/index.js';

/** One message of a JSON progress stream (docker's jsonmessage.JSONMessage). */
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** Yields each JSON object of a newline-delimited stream; tolerates objects split across chunks. */
export async function* jsonLines<T = ProgressMessage>(body: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let pending = '';
  for await (const chunk of body) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (pending.trim()) yield JSON.parse(pending) as T;
}

export { demux as demultiplex, type Frame, type FrameStream } from '../stdcopy/index.js';

async function write(out: Writable, data: Buffer): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

/**
 * Copies container output to stdout/stderr with back-pressure: demultiplexed frames when `tty` is
 * false, raw bytes when true (a TTY merges both streams into one).
 */
export async function copyOutput(body: AsyncIterable<Buffer>, tty: boolean, stdout: Writable | null, stderr: Writable | null): Promise<void> {
  if (tty) {
    for await (const chunk of body) if (stdout) await write(stdout, chunk);
    return;
  }
  await stdCopy(body, { stdout, stderr });
}

export function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}
