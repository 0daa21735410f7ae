/**
 * The small value syntaxes of Compose files: Go durations (`1m30s`), Docker byte sizes
 * (`512m`, `1g`, as docker/go-units RAMInBytes), and the shell-word split compose applies to
 * string `command`/`entrypoint` (mattn/go-shellwords: quotes and backslashes, no expansion).
 */

import { formatDuration, parseDuration as goDuration, ramInBytes } from '../../units/index.js';

export { formatDuration };

/** A Go duration string (or a number of seconds) in nanoseconds; null when not a duration. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1e9);
  if (typeof v !== 'string') return null;
  try {
    return Math.round(goDuration(v.trim()) * 1e9);
  } catch {
    return null;
  }
}

/** Bytes of a Docker size (`512m`, `1g`, `1.5gb`, `100`); null when not a size. */
export function parseBytes(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  if (typeof v !== 'string') return null;
  try {
    return ramInBytes(v.trim());
  } catch {
    return null;
  }
}

/** Splits a command string as compose does (go-shellwords without env expansion). */
export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote) throw new Error(`invalid command line string: unterminated ${quote === '"' ? 'double' : 'single'} quote in ${JSON.stringify(s)}`);
  if (inWord) words.push(cur);
  return words;
}
