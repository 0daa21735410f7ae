/**
 * What a COPY/ADD step is keyed and recorded by, from its chosen sources (copy-sources.ts) and
 * without copying anything: the instruction text of its cache key, the content part of the key
 * with each file's input (so a miss can name the file that changed), and the history's
 * created_by with Docker's source hashes (copy-hash.ts). A `--from` step's content is the source
 * image's id; its created_by needs its sources hashed in the source's root.
 */
import { createHash } from 'node:crypto';
import type { BuildContext } from './context.js';
import { combinedHash, sourceHash, walkEntries } from './copy-hash.js';
import type { ContextSource, ImageSource } from './copy-sources.js';
import type { CopySpec } from './copy-spec.js';

/** The instruction text of the step's cache key (and of its inputs' slot). */
export function copyComment(spec: CopySpec): string {
  const { kw, chown, chmod, sel, fromRaw, srcs, destAbs } = spec;
  return `${kw} ${chown !== undefined ? `--chown=${chown} ` : ''}${chmod !== undefined ? `--chmod=${chmod} ` : ''}${sel.parents ? '--parents ' : ''}${sel.excludes.map((e) => `--exclude=${e} `).join('')}${fromRaw !== undefined ? `--from=${fromRaw} ` : ''}${srcs.join(' ')} ${destAbs}`;
}

/**
 * The history's created_by. Docker's own quirks kept: no space after --chown's value, the
 * destination as written (not joined to WORKDIR), a trailing space (moby builder/dockerfile/internals.go performCopy).
 */
export function copyCreatedBy(shell: readonly string[], spec: CopySpec, sourceHashes: readonly string[]): string {
  return `${shell.join(' ')} #(nop) ${spec.kw} ${spec.chown !== undefined ? `--chown=${spec.chown}` : ''}${combinedHash(sourceHashes)} in ${spec.destRaw} `;
}

export interface ContextKeyInputs {
  /** Each file's tarsum (`file:<path>`) and each URL's digest (`url:<url>`): the step's cache inputs. */
  fileHashes: Record<string, string>;
  /** The content part of the cache key. */
  contentHash: string;
  /** The history's source hash of each source, in order. */
  sourceHashes: string[];
}

/**
 * The key inputs of context sources. Files' sums were taken as the context streamed in
 * (context-unpack.ts); only entries the stream gave none (symlinks, hard links) are read.
 */
export async function contextKeyInputs(ctx: BuildContext, sources: readonly ContextSource[]): Promise<ContextKeyInputs> {
  const fileHashes: Record<string, string> = {};
  const sourceHashes: string[] = [];
  const paths: string[] = [];
  const sums = new Map<string, string>(ctx.sums);
  for (const src of sources) {
    if (src.kind === 'doc') {
      paths.push(`<<${src.name}\0${src.content}`);
      sourceHashes.push(`file:${sha256(src.content)}`);
    } else if (src.kind === 'url') {
      // Downloaded on every build; the key is the bytes' digest (add-url.ts).
      fileHashes[`url:${src.url}`] = src.d.digest;
      sourceHashes.push(`file:${src.d.digest.slice(7)}`);
    } else {
      paths.push(...src.entries);
      sourceHashes.push(await ctx.sourceHash(src.rel, src.entries, sums));
    }
  }
  const docs = paths.filter((p) => p.startsWith('<<'));
  // Each file's tarsum (name, mode, owner, size, type, link, bytes) is also its cache input.
  for (const p of paths) if (!p.startsWith('<<')) fileHashes[`file:${p}`] = sums.get(p) ?? await ctx.entrySumOnDisk(p);
  return { fileHashes, contentHash: sha256(JSON.stringify(fileHashes)) + docs.join('\0'), sourceHashes };
}

/** The history's source hash of each `--from` source, read in `srcRoot` (the root `sources` were chosen in). */
export async function imageSourceHashes(srcRoot: string, sources: readonly ImageSource[]): Promise<string[]> {
  const out: string[] = [];
  for (const { rel, st, view } of sources) {
    const entries = st.isDirectory() ? (view ? await view.entries(rel) : await walkEntries(srcRoot, rel)) : [rel];
    out.push(await sourceHash(srcRoot, rel, entries, 'image'));
  }
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
