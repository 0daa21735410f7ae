/**
 * Copying a COPY/ADD step's chosen sources (copy-sources.ts) into the step's root: heredoc
 * bodies and downloads written as files, local archives ADD extracts, context paths and `--from`
 * sources copied with the step's owner and mode (copy-into.ts), files hard-linked where they
 * keep both (copy.ts), symbolic `--chmod` after the copy. Nothing here hashes.
 */
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, lstat, mkdir, utimes, writeFile } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { applyLayerTar, resolveInRoot } from '../storage/index.js';
import type { BuildContext } from './context.js';
import { layerFileOf } from './copy.js';
import { chmodCopied, copyInto, destFor, isArchive, parentsOpts, resolveOwner, walkAll, type CopyOpts } from './copy-into.js';
import { belowPivot, splitPivot } from './copy-select.js';
import type { ContextSource, ImageSource } from './copy-sources.js';
import { copiesMany, type CopySpec } from './copy-spec.js';

/** How the step's copies land in `root`: `--chown` resolved in its /etc/passwd and /etc/group, `--chmod` in octal. */
async function copyOpts(root: string, spec: CopySpec): Promise<CopyOpts> {
  const owner = spec.chown !== undefined ? await resolveOwner(root, spec.chown) : { uid: 0, gid: 0 };
  return { owner, mode: spec.mode, destAbs: spec.destAbs, multi: copiesMany(spec) };
}

/** The entries of a copied directory below it (relative to it), for symbolic --chmod. */
function below(entries: readonly string[], rel: string): string[] {
  return entries.map((e) => (e === rel ? '' : rel === '.' ? e : e.slice(rel.length + 1))).filter((e) => e !== '');
}

/** Copies context sources into `root`; `ctx` is the step's view of the context (copy-sources.ts `selectionContext`). */
export async function copyContextSources(root: string, ctx: BuildContext, sources: readonly ContextSource[], spec: CopySpec): Promise<void> {
  const opts = await copyOpts(root, spec);
  const { mode, symbolic } = spec;
  // The context's files are written out only now that a step copies them (context-unpack.ts).
  if (sources.some((src) => src.kind === 'context')) await ctx.materialize();
  for (const src of sources) {
    if (src.kind === 'doc') {
      const target = await destFor(root, opts, src.name);
      await mkdir(posix.dirname(target), { recursive: true, mode: 0o755 });
      await writeFile(target, src.content, { mode: mode ?? 0o644 });
      if (mode !== undefined) await chmod(target, mode);
      await lchown(target, opts.owner.uid, opts.owner.gid);
      if (symbolic) await chmodCopied(root, opts, src.name, null, symbolic);
      continue;
    }
    if (src.kind === 'url') {
      // reference.md: mode 600, mtime from Last-Modified (not part of the cache key).
      const target = await destFor(root, opts, src.d.name);
      await mkdir(posix.dirname(target), { recursive: true, mode: 0o755 });
      await copyFile(src.d.file, target);
      await chmod(target, mode ?? 0o600);
      await lchown(target, opts.owner.uid, opts.owner.gid);
      if (symbolic) await chmodCopied(root, opts, src.d.name, null, symbolic);
      if (src.d.mtime) await utimes(target, src.d.mtime, src.d.mtime);
      continue;
    }
    const abs = join(ctx.root, src.rel);
    const st = await lstat(abs);
    if (spec.isAdd && st.isFile() && await isArchive(abs)) {
      const target = await resolveInRoot(root, spec.destAbs);
      await mkdir(target, { recursive: true, mode: 0o755 });
      await applyLayerTar(createReadStream(abs), target, { mode: 'flatten' });
      continue;
    }
    const o = src.pivot !== undefined ? parentsOpts(opts, belowPivot(src.rel, src.pivot), st.isDirectory()) : opts;
    // Files are hard-linked from the build's context dir where they keep owner and mode (copy.ts).
    await copyInto(root, abs, st.isDirectory(), basename(src.rel), o, true, ctx, src.rel, sources.length === 1 && !symbolic ? (from) => from : undefined);
    if (symbolic) await chmodCopied(root, o, basename(src.rel), st.isDirectory() ? below(await ctx.entries(src.rel), src.rel) : null, symbolic);
  }
}

/**
 * Copies `--from` sources, chosen in `srcRoot`, into `root`. `lowers`: the source image's layer
 * dirs, where a file copied as it is gets hard-linked from (copy.ts `layerFileOf`).
 */
export async function copyImageSources(root: string, srcRoot: string, sources: readonly ImageSource[], spec: CopySpec, lowers: readonly string[]): Promise<void> {
  const opts = await copyOpts(root, spec);
  const { symbolic } = spec;
  for (const { src, abs, rel, st, view } of sources) {
    const o = spec.sel.parents ? parentsOpts(opts, belowPivot(splitPivot(src).path, splitPivot(src).pivot), st.isDirectory()) : opts;
    if (view) await copyInto(root, abs, st.isDirectory(), basename(src), o, false, view, rel);
    else {
      // Files are hard-linked from the source's layer dirs where they keep owner and mode (copy.ts).
      await copyInto(root, abs, st.isDirectory(), basename(src), o, false, undefined, undefined, spec.srcs.length === 1 && !symbolic ? (from, _rel, fst) => layerFileOf(lowers, posix.relative(srcRoot, from), fst) : undefined);
    }
    if (symbolic) await chmodCopied(root, o, basename(src), st.isDirectory() ? (view ? below(await view.entries(rel), rel) : await walkAll(abs)) : null, symbolic);
  }
}
