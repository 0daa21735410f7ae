/**
 * Stream helpers for images/: undoing compression told by magic bytes (docker accepts gzip'ed
 * rootfs and archive tarballs), hashing while copying, and a rollback list for multi-step writes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument } from '../errdefs/index.js';
import { detectCompression, gunzipStream, peekStream } from '../storage/index.js';

/**
 * The uncompressed bytes of `input` (plain or gzip); InvalidArgument for xz, bzip2 and zstd,
 * which Node 20 cannot decode. `what` names the stream in errors ("rootfs tarball").
 */
export async function uncompressed(input: Readable, what: string): Promise<Readable> {
  // One peek, then the stream itself or one gunzip (no async-iterator wrapper: per-chunk promises
  // cost a pull of a large image measurable time).
  const { head, rest } = await peekStream(input, 6);
  const kind = detectCompression(head);
  if (kind === 'none') return rest;
  if (kind !== 'gzip') {
    rest.destroy();
    throw new InvalidArgument(`${what} is ${kind}-compressed, which hako cannot decode; decompress it or use gzip`);
  }
  const gunzip = gunzipStream();
  rest.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err) => {
    // zlib's own messages ("unexpected end of file") do not say which stream was broken.
    if (!(err instanceof InvalidArgument)) (err as Error).message = `${what}: invalid gzip data: ${(err as Error).message}`;
  });
  return rest.pipe(gunzip);
}

/** A pass-through that hashes and counts what flows through it. */
export class Hasher extends Transform {
  #hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}

/** sha256 digest and byte count of a stream, drained. */
export async function digestStream(input: Readable): Promise<{ digest: string; size: number }> {
  const h = new Hasher();
  await pipeline(input, h, async function (source) { for await (const _ of source) { /* drain */ } });
  return { digest: h.digest(), size: h.size };
}

/** digest and size of the uncompressed bytes of a file that may be gzip'ed. */
export async function digestUncompressedFile(path: string, what: string): Promise<{ digest: string; size: number }> {
  return digestStream(await uncompressed(createReadStream(path), what));
}

/**
 * Undo actions collected while a multi-step write proceeds; `run` plays them newest first and
 * keeps going past failures, so a half-done load or import leaves nothing behind.
 */
export class Rollback {
  #undo: Array<() => Promise<unknown> | unknown> = [];
  push(fn: () => Promise<unknown> | unknown): void {
    this.#undo.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#undo.reverse()) {
      try { await fn(); } catch { /* best effort: the original error is what the caller reports */ }
    }
    this.#undo = [];
  }
  clear(): void {
    this.#undo = [];
  }
}
