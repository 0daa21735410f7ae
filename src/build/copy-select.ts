/**
 * What a COPY/ADD selects and how it lands, beyond plain sources: `--exclude` patterns,
 * `--parents` (with rsync's `./` pivot), `--chmod` in octal and chmod(1)'s symbolic form.
 * Pure functions; copy-spec.ts, copy-sources.ts and copy-apply.ts apply them (reference.md
 * "COPY --exclude", "COPY --parents", "COPY --chmod").
 */
import { posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';
import { parseChecksum } from './add-url.js';

/**
 * `--exclude` patterns as ignore-file lines for the context: each pattern matches paths relative
 * to the context (`COPY --exclude=*.txt hom* /d/`) and, for a directory source, relative to that
 * directory (`COPY --exclude=*.md docs /d/` leaves out docs/a.md). Appended after .dockerignore's
 * lines, they win over its `!` exceptions.
 */
export function excludeLines(patterns: readonly string[], sourceDirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of patterns) {
    if (raw.startsWith('!')) throw new InvalidArgument(`--exclude=${raw}: exceptions ("!") are not allowed in --exclude`);
    const p = posix.normalize(raw.replace(/^\/+/, ''));
    if (p === '' || p === '.') throw new InvalidArgument('--exclude needs a non-empty pattern');
    out.push(p);
    for (const d of sourceDirs) if (d !== '.' && d !== '') out.push(`${d}/${p}`);
  }
  return out;
}

/**
 * A `--parents` source split at its `./` pivot: `./x/./y/*.txt` -> { pivot: "x", pattern:
 * "x/y/*.txt" }. Without a pivot the parents are kept from the root ("" here).
 */
export function splitPivot(src: string): { pivot: string; path: string } {
  const s = src.replace(/^\.\//, '');
  const at = s.indexOf('/./');
  if (at < 0) return { pivot: '', path: posix.normalize(`/${s}`).slice(1) };
  const pivot = posix.normalize(`/${s.slice(0, at)}`).slice(1);
  const path = posix.normalize(`/${s.slice(0, at)}/${s.slice(at + 3)}`).slice(1);
  return { pivot, path };
}

/** The path a `--parents` copy keeps under the destination: `rel` below `pivot` ("" = the root). */
export function belowPivot(rel: string, pivot: string): string {
  const r = rel.replace(/^\/+/, '');
  if (pivot === '' || pivot === '.') return r;
  if (r === pivot) return '';
  if (!r.startsWith(`${pivot}/`)) throw new InvalidArgument(`--parents: ${rel} is not below its ./ pivot ${pivot}`);
  return r.slice(pivot.length + 1);
}

/** `--chmod`: a fixed octal mode, or chmod(1)'s symbolic clauses applied to each file's mode. */
export type Chmod = { octal: number } | { symbolic: (mode: number, isDir: boolean) => number };

/**
 * Parses `--chmod=` as octal (`755`, `0644`) or symbolic (`+x`, `u=rwX,go=rX`, `g=u`): clauses
 * `[ugoa]*([-+=]([rwxXst]*|[ugo]))+`, comma-separated. Without who, `a` is meant (Go's
 * buildkit applies no umask).
 */
export function parseChmod(spec: string): Chmod {
  if (/^[0-7]{1,4}$/.test(spec)) return { octal: parseInt(spec, 8) };
  const clauses: Array<{ who: number; ops: Array<{ op: string; perm: string }> }> = [];
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/.exec(clause);
    if (!m) throw new InvalidArgument(`invalid chmod parameter "${spec}": use an octal mode such as 0755 or a symbolic one such as u=rwX,go=rX`);
    let who = 0;
    for (const c of m[1] as string) who |= c === 'u' ? 0o4700 : c === 'g' ? 0o2070 : c === 'o' ? 0o1007 : 0o7777;
    if (who === 0) who = 0o7777;
    const ops = [...(m[2] as string).matchAll(/([-+=])([ugo]|[rwxXst]*)/g)].map((o) => ({ op: o[1] as string, perm: o[2] as string }));
    clauses.push({ who, ops });
  }
  return {
    symbolic: (mode: number, isDir: boolean): number => {
      let m = mode & 0o7777;
      for (const { who, ops } of clauses) {
        for (const { op, perm } of ops) {
          let bits = 0;
          if (perm === 'u' || perm === 'g' || perm === 'o') {
            // Copy another class's rwx bits: g=u.
            const shift = perm === 'u' ? 6 : perm === 'g' ? 3 : 0;
            const rwx = (m >> shift) & 7;
            bits = (rwx << 6) | (rwx << 3) | rwx;
          } else {
            for (const c of perm) {
              if (c === 'r') bits |= 0o444;
              else if (c === 'w') bits |= 0o222;
              else if (c === 'x') bits |= 0o111;
              else if (c === 'X' && (isDir || (mode & 0o111) !== 0)) bits |= 0o111;
              else if (c === 's') bits |= 0o6000;
              else if (c === 't') bits |= 0o1000;
            }
          }
          const mask = who & bits;
          if (op === '+') m |= mask;
          else if (op === '-') m &= ~mask;
          else m = (m & ~who) | mask;
        }
      }
      return m & 0o7777;
    },
  };
}

/** The selection flags of a COPY/ADD: `--parents[=bool]`, `--link[=bool]` (accepted), `--exclude` (several), ADD `--checksum`. */
export function copyFlags(ins: { flags: Array<{ name: string; value: string | null }> }, kw: string, word: (s: string) => string): { parents: boolean; link: boolean; excludes: string[]; checksum?: string } {
  const bool = (name: string): boolean => {
    let v = false;
    for (const f of ins.flags) {
      if (f.name !== name) continue;
      if (f.value === null || f.value === '' || f.value === 'true') v = true;
      else if (f.value === 'false') v = false;
      else throw new InvalidArgument(`${kw} --${name}=${f.value}: use true or false`);
    }
    return v;
  };
  if (ins.flags.some((f) => f.name === 'keep-git-dir')) throw new InvalidArgument(`${kw} --keep-git-dir: git sources are not supported by hako build: clone the repository into the build context`);
  const excludes = ins.flags.filter((f) => f.name === 'exclude').map((f) => word(f.value ?? ''));
  const checksum = ins.flags.filter((f) => f.name === 'checksum').map((f) => parseChecksum(word(f.value ?? ''))).at(-1);
  return { parents: bool('parents'), link: bool('link'), excludes, ...(checksum !== undefined ? { checksum } : {}) };
}
