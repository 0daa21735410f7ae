/**
 * Response writers: JSON bodies, empty answers, piped archives, Docker's chunked JSON progress
 * lines, and the framed (or raw, for TTYs) output of logs. Streams honour back-pressure and stop
 * when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument } from '../errdefs/index.js';
import type { Json, OutputChunk } from '../engine/contract.js';
import { encodeFrame } from '../stdcopy/index.js';
import { compareVersions } from './router.js';

const JSON_TYPE = 'application/json';

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  // Docker's encoder ends every JSON body with a newline; some clients split on it.
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Pipes an archive to the client; a client that disconnects destroys the source. */
export async function sendStream(res: ServerResponse, source: Readable, contentType: string, headers?: Record<string, string>): Promise<void> {
  res.writeHead(200, { 'Content-Type': contentType, ...headers });
  await pipeline(source, res);
}

/** The media type of attach/exec/logs output (application/vnd.docker.multiplexed-stream since 1.42). */
export function streamContentType(tty: boolean, version: string): string {
  return !tty && compareVersions(version, '1.42') >= 0
    ? 'application/vnd.docker.multiplexed-stream'
    : 'application/vnd.docker.raw-stream';
}

/** Resolves when `sink` drained; rejects when it closed or failed first. */
export function drainOf(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: unknown) => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', finish);
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onDrain = () => finish();
    const onClose = () => finish(new Error('connection closed'));
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', finish);
  });
}

/** Writes one output chunk as Docker does: a stdcopy frame, or the raw bytes on a TTY. */
export function outputBytes(chunk: OutputChunk, tty: boolean, timestamps: boolean): Buffer {
  let data = chunk.data;
  if (timestamps && chunk.time !== undefined) data = Buffer.concat([Buffer.from(`${rfc3339Nano(chunk.time)} `), data]);
  return tty ? data : encodeFrame(chunk.stream, data);
}

/** Go's RFC3339NanoFixed as `docker logs -t` prints it: 2024-01-02T03:04:05.123000000Z. */
export function rfc3339Nano(time: Date): string {
  return `${time.toISOString().slice(0, -1)}000000Z`;
}

/** Copies output chunks to a writable with back-pressure; returns when the source ends. */
export async function writeOutput(sink: Writable, output: AsyncIterable<OutputChunk>, tty: boolean, timestamps = false): Promise<void> {
  for await (const chunk of output) {
    if (sink.destroyed) return;
    if (!sink.write(outputBytes(chunk, tty, timestamps))) await drainOf(sink);
  }
}

/**
 * Docker's JSON progress stream (application/json, one message per line). The 200 header goes
 * out with the first message, so an error raised before any progress still gets its own status.
 */
export class JsonProgress {
  #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  get started(): boolean {
    return this.#res.headersSent;
  }
  send(message: Json): void {
    if (!this.#res.headersSent) this.#res.writeHead(200, { 'Content-Type': JSON_TYPE });
    this.#res.write(`${JSON.stringify(message)}\r\n`);
  }
  /** An error after the stream started travels in-band, as jsonmessage's errorDetail. */
  fail(message: string): void {
    this.send({ errorDetail: { message }, error: message });
  }
  end(): void {
    if (!this.#res.headersSent) this.#res.writeHead(200, { 'Content-Type': JSON_TYPE });
    this.#res.end();
  }
}

/**
 * Runs a long operation (pull, push, bootstrap) with its progress going to `res` as a JSON
 * progress stream; aborts it when the client leaves. An error before the first message is thrown
 * (the HTTP status), after it sent in-band.
 */
export async function streamProgress(res: ServerResponse, run: (progress: (m: Json) => void, signal: AbortSignal) => Promise<void>): Promise<void> {
  const progress = new JsonProgress(res);
  const abort = new AbortController();
  const onClose = () => { if (!res.writableFinished) abort.abort(new Error('the client disconnected')); };
  res.on('close', onClose);
  try {
    await run((m) => { if (!res.destroyed) progress.send(m); }, abort.signal);
  } catch (err) {
    if (!progress.started) throw err;
    progress.fail(err instanceof Error ? err.message : String(err));
  } finally {
    res.off('close', onClose);
  }
  progress.end();
}

const MAX_JSON_BODY = 16 * 1024 * 1024;

/** Reads a whole (small) request body; larger than 16 MiB is refused rather than buffered. */
export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new InvalidArgument(`request body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Parses a JSON request body; `what` names it in errors ("container config"). An empty body is
 * `null`; anything but an object (or null) is refused.
 */
export function parseJsonObject(body: Buffer, what: string): Json | null {
  if (body.length === 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidArgument(`invalid JSON in ${what}: ${(err as Error).message}`);
  }
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgument(`invalid ${what}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Json;
}
