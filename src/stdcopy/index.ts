/**
 * stdcopy: Docker's multiplexed stdio stream format, shared by api/ (which writes it) and client/
 * (which reads it). Each frame is an 8-byte header `[stream, 0, 0, 0, size(uint32 big-endian)]`
 * followed by `size` payload bytes; stream is 0 stdin, 1 stdout, 2 stderr, 3 systemerr. See
 * "Stream format" under ContainerAttach in reference/docker-engine-api/v1.47.yaml.
 * Leaves TTY streams (raw bytes, no frames) and the transport to its callers.
 */
import type { Writable } from 'node:stream';

export type FrameStream = 'stdin' | 'stdout' | 'stderr' | 'systemerr';

const STREAM_IDS: Record<FrameStream, number> = { stdin: 0, stdout: 1, stderr: 2, systemerr: 3 };
const STREAM_NAMES: readonly FrameStream[] = ['stdin', 'stdout', 'stderr', 'systemerr'];

export const FRAME_HEADER_SIZE = 8;

/** A decoded piece of a frame's payload; a frame larger than a read may arrive as several. */
export interface Frame {
  stream: FrameStream;
  data: Buffer;
}

/** The 8-byte header for a payload of `size` bytes; write the payload right after it. */
export function frameHeader(stream: FrameStream, size: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_SIZE);
  header.writeUInt32BE(0, 0);
  header[0] = STREAM_IDS[stream];
  header.writeUInt32BE(size, 4);
  return header;
}

/** One whole frame (header + a copy of the payload) in a single buffer. */
export function encodeFrame(stream: FrameStream, data: Uint8Array | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  frame.writeUInt32BE(0, 0);
  frame[0] = STREAM_IDS[stream];
  frame.writeUInt32BE(payload.length, 4);
  frame.set(payload, FRAME_HEADER_SIZE);
  return frame;
}

/**
 * Incremental decoder: feed it chunks as they arrive, cut anywhere (inside a header or a payload);
 * it returns the payload pieces completed so far. Payloads are not held back until their frame is
 * whole, so a large frame never sits in memory.
 */
export class FrameDecoder {
  #header = Buffer.alloc(FRAME_HEADER_SIZE);
  #headerFill = 0;
  #stream: FrameStream = 'stdout';
  #remaining = 0;

  /** True when the input so far ended exactly on a frame boundary. */
  get atBoundary(): boolean {
    return this.#headerFill === 0 && this.#remaining === 0;
  }

  push(chunk: Uint8Array): Frame[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Frame[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, buf.length - pos);
        out.push({ stream: this.#stream, data: buf.subarray(pos, pos + take) });
        this.#remaining -= take;
        pos += take;
        continue;
      }
      const take = Math.min(FRAME_HEADER_SIZE - this.#headerFill, buf.length - pos);
      buf.copy(this.#header, this.#headerFill, pos, pos + take);
      this.#headerFill += take;
      pos += take;
      if (this.#headerFill < FRAME_HEADER_SIZE) break;
      this.#headerFill = 0;
      const id = this.#header[0] ?? 255;
      const stream = STREAM_NAMES[id];
      if (stream === undefined) {
        throw new Error(`stdcopy: unknown stream id ${id} in frame header; the stream is not multiplexed (was the TTY setting mismatched?)`);
      }
      this.#stream = stream;
      this.#remaining = this.#header.readUInt32BE(4);
    }
    return out;
  }
}

/** Decodes a multiplexed byte stream into payload pieces. Throws if it ends inside a frame. */
export async function* demux(source: AsyncIterable<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new FrameDecoder();
  for await (const chunk of source) yield* decoder.push(chunk);
  if (!decoder.atBoundary) throw new Error('stdcopy: stream ended in the middle of a frame');
}

/**
 * Like moby's stdcopy.StdCopy: copies a multiplexed stream to stdout/stderr with back-pressure.
 * A systemerr frame carries a daemon-side error: it is thrown with the frame's text as message.
 */
export async function stdCopy(
  source: AsyncIterable<Uint8Array>,
  sinks: { stdout: Writable | null; stderr: Writable | null },
): Promise<void> {
  let systemErr = '';
  for await (const frame of demux(source)) {
    if (frame.stream === 'systemerr') {
      systemErr += frame.data.toString();
      continue;
    }
    const sink = frame.stream === 'stderr' ? sinks.stderr : sinks.stdout;
    if (sink !== null && !sink.write(frame.data)) await drained(sink);
  }
  if (systemErr !== '') throw new Error(systemErr);
}

function drained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      sink.off('drain', done);
      sink.off('error', done);
      sink.off('close', done);
      if (err instanceof Error) reject(err);
      else resolve();
    };
    sink.on('drain', done);
    sink.on('error', done);
    sink.on('close', done);
  });
}
