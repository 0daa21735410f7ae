/**
 * `.dockerignore` patterns (Docker's patternmatcher): Go filepath.Match syntax (`*`, `?`,
 * `[a-z]`, `\` escapes) plus `**` for any number of directories, `!` exceptions, later lines
 * win. A path is excluded when it or one of its parent directories matches.
 */
import { InvalidArgument } from '../errdefs/index.js';

interface Pattern {
  re: RegExp;
  exclusion: boolean;
  text: string;
}

export class IgnoreMatcher {
  readonly #patterns: Pattern[];

  constructor(lines: readonly string[]) {
    this.#patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      let exclusion = false;
      if (line.startsWith('!')) {
        exclusion = true;
        line = line.slice(1).trim();
        if (line === '') throw new InvalidArgument('.dockerignore: illegal exclusion pattern: "!"');
      }
      line = cleanPath(line);
      this.#patterns.push({ re: patternToRegExp(line), exclusion, text: line });
    }
  }

  get empty(): boolean {
    return this.#patterns.length === 0;
  }

  /** Whether `rel` (slash-separated, relative to the context root) is left out of the context. */
  ignored(rel: string): boolean {
    const path = cleanPath(rel);
    const parents: string[] = [];
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
    let matched = false;
    for (const p of this.#patterns) {
      if (p.exclusion !== matched) continue; // only a pattern of the other kind can change the answer
      const hit = p.re.test(path) || parents.some((d) => p.re.test(d));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Whether something below directory `rel` could still be included although `rel` itself is
   * ignored (an exception pattern names a path under it): then the walk must go in.
   */
  mayIncludeBelow(rel: string): boolean {
    const dir = cleanPath(rel);
    return this.#patterns.some((p) => p.exclusion && (p.text.startsWith(dir + '/') || p.text.includes('*')));
  }
}

function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.replace(/^\/+/, '').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { out.pop(); continue; }
    out.push(part);
  }
  return out.join('/') || '.';
}

/** Go filepath.Match plus `**`, anchored to the whole path. */
export function patternToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "**/" matches zero or more directories; a trailing "**" matches everything.
        if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new InvalidArgument(`.dockerignore: bad pattern "${pattern}": trailing backslash`);
      re += escapeRe(next);
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new InvalidArgument(`.dockerignore: bad pattern "${pattern}": unclosed [`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += escapeRe(ch);
  }
  return new RegExp(re + '$');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
