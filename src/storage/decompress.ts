/**
 * Layer blobs come gzip-compressed or plain (OCI image-spec layer.md#distributable-format).
 * The format is told by the magic bytes, not by a media type, so a mislabelled blob still works.
 */
import { createGunzip } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { NotImplemented } from '../errdefs/index.js';

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const BZIP2 = Buffer.from('BZh');

export type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

export function detectCompression(head: Buffer): Compression {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) return 'zstd';
  if (startsWith(head, XZ)) return 'xz';
  if (startsWith(head, BZIP2)) return 'bzip2';
  return 'none';
}

/**
 * Returns a stream of the uncompressed bytes of `input`. An error of `input` reaches the
 * returned stream. Throws NotImplemented for zstd, xz and bzip2, which Node 20 cannot decode.
 */
export async function uncompressed(input: Readable): Promise<Readable> {
  const { head, rest } = await peek(input, XZ.length);
  const kind = detectCompression(head);
  if (kind === 'none') return rest;
  if (kind !== 'gzip') {
    rest.destroy();
    throw new NotImplemented(`${kind}-compressed layers are not supported (Node 20 has no ${kind} decoder); recompress the layer with gzip or supply it uncompressed`);
  }
  return pipeline(rest, createGunzip(), () => {});
}

/** Reads at least `n` bytes (fewer at the end) and gives back a stream that still starts with them. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of input.iterator({ destroyOnReturn: false })) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    length += buf.length;
    if (length >= n) break;
  }
  const head = Buffer.concat(chunks);
  if (input.readableEnded) return { head, rest: Readable.from(head.length > 0 ? [head] : []) };
  if (head.length > 0) input.unshift(head);
  return { head, rest: input };
}

function startsWith(buf: Buffer, magic: Buffer): boolean {
  return buf.length >= magic.length && buf.subarray(0, magic.length).equals(magic);
}
