/**
 * Choosing what a COPY/ADD copies, before anything is hashed or copied: from the build context
 * (paths and wildcards, `--parents` pivots, heredocs, ADD's URLs, downloaded here) or, for
 * `--from`, inside a stage's or image's root; `--exclude` lines narrow either tree's view
 * (copy-select.ts). The key and created_by are hashed from the result (copy-key.ts), the copy
 * takes it as it is (copy-apply.ts).
 */
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidArgument, NotFound } from '../errdefs/index.js';
import { resolveInRoot } from '../storage/index.js';
import { isUrl, type Download } from './add-url.js';
import { BuildContext, inContext } from './context.js';
import { excludeLines, splitPivot } from './copy-select.js';
import type { CopySpec } from './copy-spec.js';
import type { Heredoc } from './parser.js';

/** A context source: a path of the context with the entries the copy takes, a heredoc's body, or a downloaded URL. */
export type ContextSource =
  | { kind: 'context'; rel: string; entries: string[]; pivot?: string }
  | { kind: 'doc'; name: string; content: string }
  | { kind: 'url'; url: string; d: Download };

/** A `--from` source found in the source root: `abs` inside it, `view` the tree under `--exclude` (null: all of it). */
export interface ImageSource {
  src: string;
  abs: string;
  rel: string;
  st: Stats;
  view: BuildContext | null;
}

/** The context as this step sees it: with `--exclude`, its lines after `.dockerignore`'s (they win over its `!` exceptions). */
export function selectionContext(ctx: BuildContext, spec: CopySpec): BuildContext {
  const { excludes } = spec.sel;
  if (excludes.length === 0) return ctx;
  return ctx.withIgnored(excludeLines(excludes, spec.srcs.filter((s) => !isUrl(s) && !s.startsWith('<<')).map((s) => inContext(splitPivot(s).path, s))));
}

export interface ContextSourceIO {
  /** The instruction's heredocs (`COPY <<EOF /f`). */
  heredocs: readonly Heredoc[];
  /** Substitutes variables in an unquoted heredoc's body. */
  expand: (body: string) => string;
  /** Downloads an ADD URL (add-url.ts). */
  download: (url: string) => Promise<Download>;
}

/**
 * The sources of a COPY/ADD without `--from`, in order. NotFound names a path nothing matches
 * (or `.dockerignore`/`--exclude` leaves out); a URL is downloaded on every build.
 */
export async function contextSources(ctx: BuildContext, spec: CopySpec, io: ContextSourceIO): Promise<ContextSource[]> {
  const heredocs = new Map(io.heredocs.map((h) => [h.name, h]));
  const out: ContextSource[] = [];
  for (const s of spec.srcs) {
    const doc = heredocs.get(s.replace(/^<<-?["']?/, '').replace(/["']$/, ''));
    if (s.startsWith('<<') && doc) {
      out.push({ kind: 'doc', name: doc.name, content: doc.quoted ? doc.content : io.expand(doc.content) });
      continue;
    }
    if (isUrl(s)) {
      const d = await io.download(s);
      if (d.name === '' && spec.destAbs.endsWith('/')) throw new InvalidArgument(`cannot determine a file name from the URL ${s}: give the destination as a file path`);
      out.push({ kind: 'url', url: s, d });
      continue;
    }
    const { pivot, path } = spec.sel.parents ? splitPivot(s) : { pivot: '', path: s };
    for (const rel of await ctx.match(path)) {
      out.push({ kind: 'context', rel, entries: await ctx.entries(rel), ...(spec.sel.parents ? { pivot } : {}) });
    }
  }
  return out;
}

/**
 * The sources of a COPY `--from`, each found in `srcRoot` (a stage's or image's merged root;
 * NotFound names a missing one); with `--exclude`, a source the patterns exclude is left out.
 */
export async function imageSources(srcRoot: string, spec: CopySpec): Promise<ImageSource[]> {
  const out: ImageSource[] = [];
  for (const src of spec.srcs) {
    const abs = await resolveInRoot(srcRoot, posix.resolve('/', src));
    const st = await lstat(abs).catch(() => null);
    if (st === null) throw new NotFound(`${spec.kw} --from=${spec.fromRaw ?? ''}: ${src}: no such file or directory in the source image`);
    const rel = posix.relative(srcRoot, abs) || '.';
    const view = spec.sel.excludes.length > 0 ? BuildContext.over(srcRoot, excludeLines(spec.sel.excludes, [rel])) : null;
    if (view && rel !== '.' && view.ignore.ignored(rel)) continue;
    out.push({ src, abs, rel, st, view });
  }
  return out;
}
