/**
 * `ADD <url>` (reference.md "Adding files from a URL", "ADD --checksum"): the file is downloaded
 * over http(s) into the build's temp dir on every build, as Docker's legacy builder does; the
 * step's cache key is the sha256 of the bytes (not the URL's mtime or headers), so an unchanged
 * download is a cache hit. The file lands with mode 600 (unless --chmod) and the mtime of the
 * response's Last-Modified. Git URLs are refused: hako's builder has no git source.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InvalidArgument, NotImplemented } from '../errdefs/index.js';

export interface Download {
  url: string;
  /** The file name the URL's path gives (reference.md: "the filename is inferred from the URL path"). */
  name: string;
  /** Where the bytes are, mode 600. */
  file: string;
  /** "sha256:<hex>" of the bytes. */
  digest: string;
  size: number;
  /** From Last-Modified, or null. */
  mtime: Date | null;
}

/** A source ADD downloads (http or https). */
export function isUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

/** A source BuildKit would clone with git (git://, git@host:, ssh://, or an http(s) URL of a .git repository). */
export function isGitUrl(src: string): boolean {
  if (/^(git:\/\/|git@[^:]+:|ssh:\/\/)/i.test(src)) return true;
  if (!isUrl(src)) return false;
  const path = src.replace(/[#?].*$/, '');
  return /\.git\/?$/i.test(path) || /^https?:\/\/github\.com\/[^/]+\/[^/]+\/?$/i.test(path);
}

/** `--checksum=sha256:<64 hex>`: the digest it names; other algorithms are refused with the way out. */
export function parseChecksum(value: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]+)$/i.exec(value);
  if (!m) throw new InvalidArgument(`invalid checksum "${value}": use --checksum=sha256:<64 hex digits>`);
  if ((m[1] as string).toLowerCase() !== 'sha256') throw new InvalidArgument(`unsupported checksum algorithm "${m[1]}" in --checksum=${value}: hako verifies sha256 only`);
  if ((m[2] as string).length !== 64) throw new InvalidArgument(`invalid checksum "${value}": a sha256 digest has 64 hex digits`);
  return `sha256:${(m[2] as string).toLowerCase()}`;
}

/** The file name of a download: the last component of the URL's path (Docker's getFilenameForDownload), else Content-Disposition's filename. */
export function urlFileName(url: string, contentDisposition?: string | null): string {
  let path = '';
  try {
    path = new URL(url).pathname;
  } catch {
    throw new InvalidArgument(`invalid URL ${url}`);
  }
  const base = posix.basename(decodeURIComponent(path));
  if (base !== '' && base !== '/' && !path.endsWith('/')) return base;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(contentDisposition ?? '');
  const fromHeader = m ? posix.basename(decodeURIComponent(m[1] as string)) : '';
  return fromHeader;
}

/**
 * Downloads `url` into `dir` (following redirects), hashing as it writes. Fails on a status
 * other than 2xx, naming the URL and the status; with `checksum`, fails when the digest differs,
 * naming the expected and the actual digest. The partial file is removed on failure.
 */
export async function download(url: string, dir: string, opts: { checksum?: string; signal?: AbortSignal } = {}): Promise<Download> {
  if (isGitUrl(url)) throw new NotImplemented(`ADD ${url}: git sources are not supported by hako build: clone the repository into the build context, or ADD an archive URL`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new InvalidArgument(`failed to download ${url}: ${cause}`);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw new InvalidArgument(`failed to download ${url}: server answered ${res.status} ${res.statusText}`);
  }
  const name = urlFileName(url, res.headers.get('content-disposition'));
  const file = join(dir, 'download');
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({ transform(chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); } });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), counter, createWriteStream(file, { mode: 0o600 }), ...(opts.signal ? [{ signal: opts.signal }] as const : []));
  } catch (err) {
    await rm(file, { force: true });
    throw new InvalidArgument(`failed to download ${url}: ${(err as Error).message}`);
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (opts.checksum !== undefined && opts.checksum !== digest) {
    await rm(file, { force: true });
    throw new InvalidArgument(`checksum of ${url} does not match: expected ${opts.checksum}, got ${digest}`);
  }
  const lm = res.headers.get('last-modified');
  const t = lm ? Date.parse(lm) : Number.NaN;
  return { url, name, file, digest, size, mtime: Number.isNaN(t) ? null : new Date(t) };
}
