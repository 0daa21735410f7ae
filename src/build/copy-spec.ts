/**
 * A COPY/ADD instruction read into what its step does: the sources as written (variables
 * substituted, heredoc markers left as they are), the destination, the `--chown`/`--chmod`
 * values and the selection flags (copy-select.ts). Pure: nothing is read from disk. The checks
 * and their messages are Docker's; `--from` stays as written, the caller substitutes it.
 */
import { posix } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';
import { isUrl } from './add-url.js';
import { copyFlags, parseChmod } from './copy-select.js';
import { flagValue, type Instruction } from './parser.js';
import { splitWords } from './shell-words.js';

export interface CopySpec {
  isAdd: boolean;
  /** "COPY" or "ADD". */
  kw: string;
  /** `--parents`, `--exclude`, `--link`, ADD `--checksum`. */
  sel: ReturnType<typeof copyFlags>;
  /** The sources, substituted; `<<EOF` heredoc markers as written. */
  srcs: string[];
  /** The destination as written (the history shows it so). */
  destRaw: string;
  /** The destination resolved against WORKDIR, with a trailing "/" when it names a directory. */
  destAbs: string;
  /** `--chown` and `--chmod` substituted, as written otherwise (the cache key and history show them). */
  chown: string | undefined;
  chmod: string | undefined;
  /** `--chmod` in octal: every copied entry's mode. */
  mode: number | undefined;
  /** `--chmod` in symbolic form, applied to each copied entry after the copy. */
  symbolic: ((mode: number, isDir: boolean) => number) | undefined;
  /** `--from=` as written, not substituted. */
  fromRaw: string | undefined;
}

/**
 * Reads `ins` (a COPY or ADD). `word` substitutes variables and records the args it used: it is
 * called in the instruction's order — selection flags, sources, --chown, --chmod.
 */
export function copySpec(ins: Instruction, word: (s: string) => string, escape: string, workdir: string): CopySpec {
  const isAdd = ins.cmd === 'add';
  const kw = ins.cmd.toUpperCase();
  // --link is accepted with the legacy semantics (docs/ARCHITECTURE.md, build): the same files, the same cache key.
  const sel = copyFlags(ins, kw, word);
  const all = ins.json ? ins.json.map(word) : splitWords(ins.rest, escape).map((w) => (/^<<-?["']?[A-Za-z_]/.test(w) ? w : word(w)));
  const destRaw = all.pop() as string;
  const srcs = all;
  const chownRaw = flagValue(ins, 'chown');
  const chown = chownRaw !== undefined ? word(chownRaw) : undefined;
  const chmodRaw = flagValue(ins, 'chmod');
  const chmod = chmodRaw !== undefined ? word(chmodRaw) : undefined;
  const chmodSpec = chmod !== undefined ? parseChmod(chmod) : undefined;
  const destAbs = posix.resolve(workdir, destRaw) + (destRaw.endsWith('/') || destRaw === '.' ? '/' : '');
  if (srcs.length > 1 && !destAbs.endsWith('/')) {
    throw new InvalidArgument(`When using ${kw} with more than one source file, the destination must be a directory and end with a /`);
  }
  if (srcs.some((s) => /^[a-z]+:\/\//i.test(s) || /^git@/.test(s))) {
    if (!isAdd) throw new InvalidArgument('source can\'t be a URL for COPY');
    const bad = srcs.find((s) => /^[a-z]+:\/\//i.test(s) && !isUrl(s) && !/^(git|ssh):/i.test(s));
    if (bad !== undefined) throw new InvalidArgument(`ADD ${bad}: only http:// and https:// URLs can be downloaded`);
  }
  if (sel.checksum !== undefined && !(srcs.length === 1 && isUrl(srcs[0] as string))) throw new InvalidArgument('ADD --checksum verifies one http(s) URL source: give exactly one URL');
  if (sel.parents && !destAbs.endsWith('/')) throw new InvalidArgument(`${kw} --parents copies into a directory: end the destination with a /`);
  return {
    isAdd, kw, sel, srcs, destRaw, destAbs, chown, chmod,
    mode: chmodSpec !== undefined && 'octal' in chmodSpec ? chmodSpec.octal : undefined,
    symbolic: chmodSpec !== undefined && 'symbolic' in chmodSpec ? chmodSpec.symbolic : undefined,
    fromRaw: flagValue(ins, 'from'),
  };
}

/** Several sources or a wildcard: the destination is a directory (copy-into.ts `destFor`). */
export function copiesMany(spec: CopySpec): boolean {
  return spec.srcs.length > 1 || spec.srcs.some((s) => /[*?[]/.test(s));
}
