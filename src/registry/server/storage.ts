/**
 * The registry server's files under its root:
 *
 *   blobs/sha256/<hex>                 content, shared by all repositories
 *   repositories/<name>/_layers/<hex>  empty: the blob is part of <name> (pushed or mounted there)
 *   repositories/<name>/_manifests/<hex>  the manifest's media type; its bytes are a blob
 *   repositories/<name>/_tags/<tag>    the digest the tag points at
 *   uploads/<uuid>/{data,repo}         uploads under way
 *
 * Every file that readers see is written to a temp name and renamed, so a reader never sees a
 * partial blob or tag, and two clients pushing the same blob at once both succeed (same content,
 * same name).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const HEX = /^[a-f0-9]{64}$/;

export class RegistryStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  async init(): Promise<void> {
    for (const d of ['blobs/sha256', 'repositories', 'uploads', 'tmp']) await mkdir(join(this.root, d), { recursive: true });
    // What a crash left in tmp/ is garbage.
    for (const n of await readdir(join(this.root, 'tmp'))) await rm(join(this.root, 'tmp', n), { recursive: true, force: true });
  }

  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', hexOf(digest));
  }

  #repo(name: string, ...rest: string[]): string {
    return join(this.root, 'repositories', name, ...rest);
  }

  async #write(path: string, data: string | Buffer): Promise<void> {
    const temp = join(this.root, 'tmp', randomBytes(8).toString('hex'));
    await writeFile(temp, data);
    await mkdir(join(path, '..'), { recursive: true });
    await rename(temp, path);
  }

  async blobSize(digest: string): Promise<number | null> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch {
      return null;
    }
  }

  /** Size of a blob that is part of repository `name`, or null. */
  async repoBlob(name: string, digest: string): Promise<number | null> {
    try {
      await stat(this.#repo(name, '_layers', hexOf(digest)));
    } catch {
      // Manifests are blobs of the repository too.
      try { await stat(this.#repo(name, '_manifests', hexOf(digest))); } catch { return null; }
    }
    return this.blobSize(digest);
  }

  async link(name: string, digest: string): Promise<void> {
    await this.#write(this.#repo(name, '_layers', hexOf(digest)), '');
  }

  async unlink(name: string, digest: string): Promise<boolean> {
    try {
      await unlink(this.#repo(name, '_layers', hexOf(digest)));
      return true;
    } catch {
      return false;
    }
  }

  // --- uploads ---------------------------------------------------------------------------------

  async startUpload(name: string): Promise<string> {
    const id = randomUUID();
    await mkdir(join(this.root, 'uploads', id));
    await writeFile(join(this.root, 'uploads', id, 'repo'), name);
    await writeFile(join(this.root, 'uploads', id, 'data'), '');
    return id;
  }

  /** Bytes received so far, or null when there is no such upload for `name`. */
  async uploadSize(name: string, id: string): Promise<number | null> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    try {
      if ((await readFile(join(this.root, 'uploads', id, 'repo'), 'utf8')) !== name) return null;
      return (await stat(join(this.root, 'uploads', id, 'data'))).size;
    } catch {
      return null;
    }
  }

  async appendUpload(id: string, body: Readable): Promise<number> {
    const path = join(this.root, 'uploads', id, 'data');
    await pipeline(body, createWriteStream(path, { flags: 'a' }));
    return (await stat(path)).size;
  }

  /** Verifies the upload against `digest` and moves it into blobs/; false on a mismatch. */
  async finishUpload(name: string, id: string, digest: string): Promise<{ ok: boolean; actual: string }> {
    const data = join(this.root, 'uploads', id, 'data');
    const hash = createHash('sha256');
    await pipeline(createReadStream(data), async function (source) { for await (const c of source) hash.update(c as Buffer); });
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) return { ok: false, actual };
    const fh = await open(data, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
    await rename(data, this.blobPath(digest));
    await this.link(name, digest);
    await this.cancelUpload(id);
    return { ok: true, actual };
  }

  async cancelUpload(id: string): Promise<void> {
    await rm(join(this.root, 'uploads', id), { recursive: true, force: true });
  }

  // --- manifests and tags ------------------------------------------------------------------------

  async putManifest(name: string, digest: string, bytes: Buffer, mediaType: string, tag: string | null): Promise<void> {
    if ((await this.blobSize(digest)) === null) await this.#write(this.blobPath(digest), bytes);
    await this.#write(this.#repo(name, '_manifests', hexOf(digest)), mediaType);
    if (tag !== null) await this.#write(this.#repo(name, '_tags', tag), digest);
  }

  async resolveTag(name: string, tag: string): Promise<string | null> {
    try {
      const d = (await readFile(this.#repo(name, '_tags', tag), 'utf8')).trim();
      return HEX.test(d.slice(7)) ? d : null;
    } catch {
      return null;
    }
  }

  async manifest(name: string, digest: string): Promise<{ bytes: Buffer; mediaType: string } | null> {
    try {
      const mediaType = await readFile(this.#repo(name, '_manifests', hexOf(digest)), 'utf8');
      return { bytes: await readFile(this.blobPath(digest)), mediaType };
    } catch {
      return null;
    }
  }

  async hasManifest(name: string, digest: string): Promise<boolean> {
    try {
      await stat(this.#repo(name, '_manifests', hexOf(digest)));
      return true;
    } catch {
      return false;
    }
  }

  /** Removes a manifest from a repository and every tag pointing at it. */
  async deleteManifest(name: string, digest: string): Promise<boolean> {
    try {
      await unlink(this.#repo(name, '_manifests', hexOf(digest)));
    } catch {
      return false;
    }
    for (const tag of await this.tags(name) ?? []) {
      if ((await this.resolveTag(name, tag)) === digest) await rm(this.#repo(name, '_tags', tag), { force: true });
    }
    return true;
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    try {
      await unlink(this.#repo(name, '_tags', tag));
      return true;
    } catch {
      return false;
    }
  }

  /** Tags in lexical order, or null when the repository does not exist. */
  async tags(name: string): Promise<string[] | null> {
    try {
      await stat(this.#repo(name));
    } catch {
      return null;
    }
    try {
      return (await readdir(this.#repo(name, '_tags'))).sort();
    } catch {
      return [];
    }
  }

  /** Every repository name, in lexical order. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(this.root, 'repositories', rel), { withFileTypes: true });
      } catch {
        return;
      }
      if (entries.some((e) => e.name === '_manifests' || e.name === '_layers')) out.push(rel);
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('_')) await walk(rel ? `${rel}/${e.name}` : e.name);
    };
    await walk('');
    return out.sort();
  }
}

function hexOf(digest: string): string {
  const hex = digest.startsWith('sha256:') ? digest.slice(7) : '';
  if (!HEX.test(hex)) throw new Error(`invalid digest ${digest}`);
  return hex;
}
