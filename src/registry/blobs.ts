/**
 * Blob transfer: downloads verified against the descriptor's digest and size before they reach
 * the content store, resumed with a Range request when the connection breaks (the partial file
 * and the running hash are kept), and uploads as distribution's two-step PATCH + PUT.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { InvalidArgument, NotFound, Unavailable } from '../errdefs/index.js';
import type { ContentLike } from './deps.js';
import type { Descriptor } from './manifest.js';
import { readBytes, type Registry } from './transport.js';

/** Largest manifest or config read into memory (distribution limits manifests to 4 MiB). */
export const MAX_DOCUMENT = 8 * 1024 * 1024;

export interface Repo {
  registry: Registry;
  /** "library/nginx" */
  path: string;
  scopes: string[];
}

/** Fetches a small blob (a config) into memory, verified. */
export async function fetchSmallBlob(repo: Repo, desc: Descriptor, what: string, signal?: AbortSignal): Promise<Buffer> {
  if (desc.size > MAX_DOCUMENT) throw new InvalidArgument(`${what} ${desc.digest} is ${desc.size} bytes; hako reads at most ${MAX_DOCUMENT}`);
  const res = await repo.registry.request(`/v2/${repo.path}/blobs/${desc.digest}`, { scopes: repo.scopes, signal });
  if (res.status !== 200) throw await blobError(repo, res, desc, what);
  const bytes = await readBytes(res.body, MAX_DOCUMENT, `${what} ${desc.digest}`);
  verify(bytes.length, createHash('sha256').update(bytes).digest('hex'), desc, `${what} from ${repo.registry.host}/${repo.path}`);
  return bytes;
}

/**
 * Downloads a layer blob into the content store. `onBytes` sees the running count. A broken
 * connection is resumed from where it stopped (Range: bytes=N-) up to `retries` times; a digest
 * or size mismatch fails at once. Nothing reaches the content store unless it verified.
 */
export async function downloadBlob(repo: Repo, desc: Descriptor, opts: {
  content: ContentLike; tmpDir: string; retries: number; signal?: AbortSignal | undefined; onBytes?: (n: number) => void;
  onRetry?: (attempt: number, err: unknown) => void;
  /** Lets a reader follow the bytes as they land (unpack while downloading). */
  live?: LiveDownload;
}): Promise<void> {
  const temp = join(opts.tmpDir, `pull-${desc.digest.slice(7, 19)}-${randomBytes(6).toString('hex')}`);
  const live = opts.live;
  live?.start(temp);
  let hash = createHash('sha256');
  let written = 0;
  let failures = 0;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        const headers: Record<string, string> = written > 0 ? { Range: `bytes=${written}-` } : {};
        const res = await repo.registry.request(`/v2/${repo.path}/blobs/${desc.digest}`, { scopes: repo.scopes, headers, signal: opts.signal });
        if (res.status === 200 && written > 0) {
          // The registry ignored the range: start over.
          res.body.destroy();
          throw Object.assign(new Error('range ignored'), { restart: true });
        }
        if (res.status === 206) {
          const start = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''))?.[1];
          if (Number(start) !== written) {
            res.body.destroy();
            throw Object.assign(new Error('bad content-range'), { restart: true });
          }
        } else if (res.status !== 200) {
          throw await blobError(repo, res, desc, 'layer');
        }
        const meter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            written += chunk.length;
            if (written > desc.size) {
              cb(new InvalidArgument(`layer ${desc.digest} from ${repo.registry.host}/${repo.path}: the registry sent more than the ${desc.size} bytes the manifest announces`));
              return;
            }
            hash.update(chunk);
            opts.onBytes?.(written);
            cb(null, chunk);
          },
        });
        await pipeline(res.body, meter, appendSink(temp, (n) => live?.wrote(n)), opts.signal ? { signal: opts.signal } : {});
        if (written < desc.size) throw new Unavailable(`layer ${desc.digest}: the connection ended after ${written} of ${desc.size} bytes`);
        break;
      } catch (err) {
        if (err instanceof InvalidArgument || err instanceof NotFound || opts.signal?.aborted) throw err;
        const restart = (err as { restart?: boolean }).restart === true;
        if (!restart && !isTransient(err)) throw err;
        // A reader following the file cannot tell resumed bytes from a restart: it gives up and
        // the layer unpacks from the stored blob once the download completes.
        live?.interrupt(err);
        if (restart) {
          await rm(temp, { force: true });
          written = 0;
          hash = createHash('sha256');
        }
        failures++;
        if (failures > opts.retries) {
          throw new Unavailable(`layer ${desc.digest} from ${repo.registry.host}/${repo.path}: download failed after ${failures} attempts at ${written} of ${desc.size} bytes: ${(err as Error).message}`, { cause: err });
        }
        // Bytes counted may not all have reached the file when the stream broke: resume from
        // what is on disk, with the hash of exactly that.
        ({ hash, size: written } = await hashFile(temp));
        opts.onRetry?.(failures, err);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures)));
      }
    }
    verify(written, hash.digest('hex'), desc, `layer from ${repo.registry.host}/${repo.path}`);
    // Verified: a follower may read to the end now (its open descriptor survives the rename).
    live?.complete(written);
    // The hash covered exactly the file's bytes (re-read after any resume): rename, no copy.
    await opts.content.adopt(temp, desc.digest, desc.size);
  } catch (err) {
    live?.fail(err);
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * The bytes of one download as they reach its temp file, for a reader that unpacks the layer
 * while it downloads. The stream `open` returns ends only once the whole blob has verified
 * (digest and size), so whatever it feeds commits nothing unverified; it fails when the
 * download fails. A download that had to resume or restart breaks the stream (`interrupted`):
 * its reader then unpacks from the stored blob instead.
 */
export class LiveDownload {
  #path: string | null = null;
  /** Bytes in the file (written, not just received). */
  #durable = 0;
  #final: number | null = null;
  #error: Error | null = null;
  #interrupted = false;
  #wake: Array<() => void> = [];

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** @internal downloadBlob's side */
  start(path: string): void { this.#path = path; }
  wrote(n: number): void { this.#durable += n; this.#notify(); }
  interrupt(err: unknown): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.#error = Object.assign(new Error(`the download was interrupted and resumed: ${(err as Error).message}`), { interrupted: true });
    this.#notify();
  }
  complete(size: number): void { this.#final = size; this.#notify(); }
  fail(err: unknown): void {
    this.#error ??= err instanceof Error ? err : new Error(String(err));
    this.#notify();
  }

  /**
   * A stream of the blob from its first byte, or null when it cannot be followed any more
   * (interrupted, failed, or already moved into the content store: read it from there).
   */
  open(): Readable | null {
    if (this.#interrupted || this.#error !== null || this.#final !== null) return null;
    const self = this;
    let fh: FileHandle | null = null;
    let pos = 0;
    return new Readable({
      highWaterMark: 1 << 20,
      read(size) {
        void (async () => {
          for (;;) {
            if (self.#error) throw self.#error;
            if (self.#durable > pos) {
              if (fh === null) {
                const h = await open(self.#path as string, 'r');
                if (this.destroyed) { await h.close(); return; }
                fh = h;
              }
              const want = Math.min(self.#durable - pos, Math.max(size, 256 * 1024));
              const buf = Buffer.allocUnsafe(want);
              const { bytesRead } = await fh.read(buf, 0, want, pos);
              if (this.destroyed) return;
              if (bytesRead > 0) {
                pos += bytesRead;
                this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
                return;
              }
            }
            if (self.#final !== null && pos >= self.#final) {
              this.push(null);
              return;
            }
            await new Promise<void>((r) => self.#wake.push(r));
          }
        })().catch((err: unknown) => this.destroy(err as Error));
      },
      destroy(err, cb) {
        const h = fh;
        fh = null;
        if (h) h.close().then(() => cb(err), () => cb(err));
        else cb(err);
      },
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = [];
    for (const r of w) r();
  }
}

/** Appends to `path`, reporting each write once it is in the file (not merely received). */
function appendSink(path: string, onWritten: (n: number) => void): Writable {
  let fh: FileHandle | null = null;
  return new Writable({
    highWaterMark: 1 << 20,
    construct(cb) { open(path, 'a').then((h) => { fh = h; cb(); }, cb); },
    writev(chunks, cb) {
      const bufs = chunks.map((c) => c.chunk as Buffer);
      const total = bufs.reduce((n, b) => n + b.length, 0);
      (fh as FileHandle).writev(bufs).then(({ bytesWritten }) => {
        if (bytesWritten !== total) throw new Error(`short write to ${path}: ${bytesWritten} of ${total} bytes`);
        onWritten(total);
        cb();
      }).catch(cb);
    },
    final(cb) {
      const h = fh;
      fh = null;
      (h ? h.close() : Promise.resolve()).then(() => cb(), cb);
    },
    destroy(err, cb) {
      const h = fh;
      fh = null;
      if (h) h.close().then(() => cb(err), () => cb(err));
      else cb(err);
    },
  });
}

async function hashFile(path: string): Promise<{ hash: Hash; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const c of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(c);
      size += c.length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { hash, size };
}

function isTransient(err: unknown): boolean {
  if (err instanceof Unavailable) return true;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED', 'UND_ERR_SOCKET'].includes(code)
    || /aborted|socket hang up|premature close|terminated/i.test((err as Error).message ?? '');
}

function verify(size: number, hex: string, desc: Descriptor, what: string): void {
  if (size !== desc.size) {
    throw new InvalidArgument(`${what}: blob ${desc.digest} is ${size} bytes, the manifest says ${desc.size}; nothing was stored`);
  }
  if (`sha256:${hex}` !== desc.digest) {
    throw new InvalidArgument(`${what}: digest mismatch: expected ${desc.digest}, got sha256:${hex}; the blob is corrupt or not the one the manifest names, nothing was stored`);
  }
}

async function blobError(repo: Repo, res: Awaited<ReturnType<Registry['request']>>, desc: Descriptor, what: string): Promise<Error> {
  if (res.status === 404) {
    res.body.resume();
    return new NotFound(`${what} ${desc.digest} is missing from ${repo.registry.host}/${repo.path}: the manifest references a blob the registry does not have (blob unknown)`);
  }
  return repo.registry.errorOf(res, `GET blob ${desc.digest}`);
}

/**
 * Uploads a blob (POST uploads/, PATCH the bytes, PUT ?digest=), or mounts it from `mountFrom`
 * on the same registry. Returns how it got there. A blob made while it is sent (push compresses
 * a layer on the way) gives its digest as a function, read once the bytes went out, and no size:
 * the PATCH is then sent chunked, as docker does, and nothing is mounted.
 */
export async function uploadBlob(repo: Repo, blob: { digest: string | (() => string); size?: number; open: () => Promise<Readable> }, opts: {
  mountFrom?: string[]; signal?: AbortSignal | undefined; onBytes?: (n: number) => void;
}): Promise<{ mounted: string | null }> {
  const base = `/v2/${repo.path}/blobs/uploads/`;
  let location: string | null = null;
  const known = typeof blob.digest === 'string' ? blob.digest : null;
  for (const from of known !== null ? opts.mountFrom ?? [] : []) {
    const res = await repo.registry.request(`${base}?mount=${encodeURIComponent(known as string)}&from=${encodeURIComponent(from)}`, {
      method: 'POST', scopes: [...repo.scopes, `repository:${from}:pull`], signal: opts.signal,
    });
    res.body.resume();
    if (res.status === 201) return { mounted: from };
    if (res.status === 202) {
      // Not mountable (unknown there, or not allowed): the registry started an upload instead.
      location = String(res.headers.location ?? '') || null;
      break;
    }
  }
  if (location === null) {
    const res = await repo.registry.request(base, { method: 'POST', scopes: repo.scopes, signal: opts.signal });
    if (res.status !== 202) throw await repo.registry.errorOf(res, `POST ${base}`);
    res.body.resume();
    location = String(res.headers.location ?? '');
    if (!location) throw new Unavailable(`${repo.registry.host}: the registry started an upload without a Location`);
  }
  await repo.registry.ensureAuth(repo.scopes, opts.signal);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) { sent += chunk.length; opts.onBytes?.(sent); cb(null, chunk); },
  });
  const source = await blob.open();
  source.once('error', (err) => counter.destroy(err));
  source.pipe(counter);
  const patch = await repo.registry.request(pathOf(location), {
    method: 'PATCH', scopes: repo.scopes, signal: opts.signal, body: counter,
    headers: { 'Content-Type': 'application/octet-stream', ...(blob.size !== undefined ? { 'Content-Length': String(blob.size) } : {}) },
  });
  if (patch.status !== 202) throw await repo.registry.errorOf(patch, `PATCH upload of ${known ?? 'a layer'}`);
  patch.body.resume();
  // The answer may come before the body's last byte was handed over: wait for the source's end.
  if (!counter.writableFinished) await finished(counter);
  const final = known ?? (blob.digest as () => string)();
  const next = pathOf(String(patch.headers.location ?? location));
  const put = await repo.registry.request(withQuery(next, 'digest', final), { method: 'PUT', scopes: repo.scopes, signal: opts.signal });
  if (put.status !== 201) throw await repo.registry.errorOf(put, `PUT upload of ${final}`);
  put.body.resume();
  return { mounted: null };
}

/** Location may be absolute or relative; requests take the path and query. */
function pathOf(location: string): string {
  const u = new URL(location, 'http://registry.invalid');
  return u.pathname + u.search;
}

function withQuery(path: string, key: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}
