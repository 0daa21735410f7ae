/**
 * Secrets and configs compose copies into a container (model.ts `InjectedFile`): `environment:`
 * and `content:` sources, and `file:` ones given `mode`/`uid`/`gid`. Each is a one-file tar sent
 * through PUT /containers/{id}/archive at `/` after the create and before the start (compose's
 * injectSecrets/injectConfigs), so it works on any engine and leaves nothing on the host.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Client } from '../client/index.js';
import { InvalidArgument } from '../errdefs/index.js';
import type { InjectedFile } from './model.js';

/** One ustar header field: octal, NUL-terminated, as wide as the field. */
function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/**
 * A ustar archive of one regular file at `target` (no directory entries: the engine makes
 * missing parents, and existing ones keep their modes).
 */
export function fileTar(f: Pick<InjectedFile, 'target' | 'mode' | 'uid' | 'gid'>, body: Buffer, mtime = Math.floor(Date.now() / 1000)): Buffer {
  const rel = f.target.replace(/^\/+/, '');
  const h = Buffer.alloc(512);
  // Names over 100 bytes go in ustar's 155-byte prefix, split at a '/'.
  let name = rel;
  let prefix = '';
  if (Buffer.byteLength(rel) > 100) {
    const cut = rel.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(rel.slice(cut + 1)) > 100) throw new InvalidArgument(`${f.target}: the path is too long for a secret or config target`);
    prefix = rel.slice(0, cut);
    name = rel.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(f.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(f.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(f.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(body.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512), Buffer.alloc(1024)]);
}

/** Refuses services whose `environment:` secret or config has no value, before anything is made (compose's message). */
export function checkInjectable(services: Iterable<{ name: string; files: InjectedFile[] }>): void {
  for (const s of services) {
    for (const f of s.files) {
      if (f.content === null && f.hostFile === null) {
        throw new InvalidArgument(`environment variable "${f.environment ?? ''}" required by ${f.kind} "${f.source}" is not set: set it in the environment or in .env (service "${s.name}")`);
      }
    }
  }
}

/** Writes a service's injected files into a created container; the tar's owner counts only where uid/gid were given (compose's CopyUIDGID). */
export async function injectFiles(client: Client, id: string, files: InjectedFile[]): Promise<void> {
  for (const f of files) {
    let body: Buffer;
    if (f.content !== null) body = Buffer.from(f.content, 'utf8');
    else if (f.hostFile !== null) {
      try {
        body = await readFile(f.hostFile);
      } catch (e) {
        throw new InvalidArgument(`${f.kind} "${f.source}": cannot read ${f.hostFile}: ${(e as Error).message}`);
      }
    } else throw new InvalidArgument(`environment variable "${f.environment ?? ''}" required by ${f.kind} "${f.source}" is not set`);
    await client.containerPutArchive(id, '/', Readable.from([fileTar(f, body)]), { copyUIDGID: f.uid !== null || f.gid !== null });
  }
}
