/**
 * Content store: blobs addressed by their sha256 digest at <root>/blobs/sha256/<hex>
 * (the layout of an OCI image-layout's blobs directory). A blob is written to a temp file in the
 * same directory while it is hashed, checked against what the caller expected, fsynced and
 * renamed into place, so a reader never sees a partial blob and a failed write leaves nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument, NotFound } from '../errdefs/index.js';
import { digestHex, isDigest } from './digest.js';

export interface IngestOptions {
  /** Refuse the blob unless its digest is this one. */
  expectedDigest?: string;
  /** Refuse the blob unless it has exactly this many bytes. */
  expectedSize?: number;
  signal?: AbortSignal;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

const TEMP_PREFIX = '.ingest-';

export class ContentStore {
  readonly root: string;
  #blobDir: string;
  #ready: Promise<void> | undefined;

  /** `root` is <dataRoot>/content. */
  constructor(root: string) {
    this.root = root;
    this.#blobDir = join(root, 'blobs', 'sha256');
  }

  /** Host path of a blob (it may not exist). Throws InvalidArgument for a malformed digest. */
  path(digest: string): string {
    return join(this.#blobDir, digestHex(digest));
  }

  /**
   * Streams `input` into the store and returns its digest and size. On a digest or size
   * mismatch, a read error or an abort, nothing is left behind and the error is thrown.
   */
  async ingest(input: Readable | AsyncIterable<Uint8Array>, opts: IngestOptions = {}): Promise<BlobInfo> {
    if (opts.expectedDigest !== undefined) digestHex(opts.expectedDigest);
    await this.#ensureDirs();
    const temp = join(this.#blobDir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const expectedSize = opts.expectedSize;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (expectedSize !== undefined && size > expectedSize) {
          cb(new InvalidArgument(`blob ${opts.expectedDigest ?? '(no digest given)'} size mismatch: expected ${expectedSize} bytes, got more`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
      await pipeline(input, meter, out, opts.signal ? { signal: opts.signal } : {});
      const digest = 'sha256:' + hash.digest('hex');
      if (expectedSize !== undefined && size !== expectedSize) {
        throw new InvalidArgument(`blob ${digest} size mismatch: expected ${expectedSize} bytes, got ${size}`);
      }
      if (opts.expectedDigest !== undefined && digest !== opts.expectedDigest) {
        throw new InvalidArgument(`blob digest mismatch: expected ${opts.expectedDigest}, got ${digest} (${size} bytes); the content is corrupt or not what was announced`);
      }
      await fsyncPath(temp);
      await rename(temp, this.path(digest));
      // The rename is durable only once the directory entry is on disk too.
      await fsyncPath(this.#blobDir);
      return { digest, size };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  /**
   * Moves a finished file into the store under `digest`, which the caller computed over exactly
   * these bytes while writing them (a registry download): no second copy of a large layer. The
   * size is checked, the file fsynced and renamed; `path` must be on the store's filesystem.
   */
  async adopt(path: string, digest: string, expectedSize: number): Promise<BlobInfo> {
    digestHex(digest);
    await this.#ensureDirs();
    const { size } = await stat(path);
    if (size !== expectedSize) throw new InvalidArgument(`blob ${digest} size mismatch: expected ${expectedSize} bytes, got ${size}`);
    await fsyncPath(path);
    await rename(path, this.path(digest));
    await fsyncPath(this.#blobDir);
    return { digest, size };
  }

  /** Stores a small in-memory blob (a config, a manifest). */
  put(data: Buffer | string, opts: Omit<IngestOptions, 'signal'> = {}): Promise<BlobInfo> {
    return this.ingest(Readable.from([Buffer.from(data)]), opts);
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.path(digest))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async stat(digest: string): Promise<BlobInfo> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err) {
      throw notFoundOr(err, digest);
    }
  }

  /** The whole blob in memory: for configs and manifests, never layers. */
  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      throw notFoundOr(err, digest);
    }
  }

  /** A stream of the blob; opens eagerly so a missing blob throws NotFound here, not mid-stream. */
  async createReadStream(digest: string, opts: { start?: number; end?: number; highWaterMark?: number } = {}): Promise<ReadStream> {
    const path = this.path(digest);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw notFoundOr(err, digest);
    }
    return createReadStream(path, { fd: handle, autoClose: true, ...opts });
  }

  /** Removes a blob; NotFound when it is absent. */
  async delete(digest: string): Promise<void> {
    try {
      await unlink(this.path(digest));
    } catch (err) {
      throw notFoundOr(err, digest);
    }
  }

  /** Every blob in the store (temp files of ingests under way excluded). */
  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const name of await this.#names()) {
      const digest = `sha256:${name}`;
      if (!isDigest(digest)) continue;
      try {
        out.push({ digest, size: (await stat(join(this.#blobDir, name))).size });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted meanwhile
      }
    }
    return out;
  }

  /**
   * Removes what nothing needs: the temp files of ingests a crash cut short, and every blob that
   * `inUse` disowns (left by a pull, load or build that died before its image was recorded). Only
   * while nothing ingests: hakod's start-up, before it serves. Returns the blobs removed.
   */
  async sweep(inUse: (digest: string) => boolean): Promise<BlobInfo[]> {
    const removed: BlobInfo[] = [];
    for (const name of await this.#names()) {
      const path = join(this.#blobDir, name);
      if (name.startsWith(TEMP_PREFIX)) {
        await rm(path, { force: true });
        continue;
      }
      const digest = `sha256:${name}`;
      if (!isDigest(digest) || inUse(digest)) continue;
      // Only regular files are blobs: anything else under a digest's name is not ours to remove.
      const st = await stat(path);
      if (!st.isFile()) continue;
      await unlink(path);
      removed.push({ digest, size: st.size });
    }
    return removed;
  }

  /** The names in the blob directory (none before the first write). */
  async #names(): Promise<string[]> {
    try {
      return await readdir(this.#blobDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= mkdir(this.#blobDir, { recursive: true }).then(() => undefined, (err) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function notFoundOr(err: unknown, digest: string): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return new NotFound(`blob ${digest}: not found in the content store`, { cause: err });
  }
  return err;
}
