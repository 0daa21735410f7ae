/**
 * Variable substitution and word splitting as the Dockerfile reference defines them
 * (reference.md "Environment replacement"): `$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`,
 * `${V+w}`, the escape character before `$`, single quotes literal, double quotes expanding.
 * Quote removal happens here too, as in Docker's shell lexer.
 */
import { InvalidArgument } from '../errdefs/index.js';

/** Returns the value of a variable, or undefined when it is not set. */
export type Lookup = (name: string) => string | undefined;

export interface ExpandResult {
  value: string;
  /** Names looked up (set or not): the build args a step "uses" are among them. */
  used: Set<string>;
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Expands one word: variables replaced, quotes and escapes removed. */
export function expandWord(word: string, lookup: Lookup, escape = '\\', used = new Set<string>()): string {
  return new Lexer(word, lookup, escape, used).word();
}

/**
 * Splits `text` into words on unquoted whitespace, then expands each (ENV/LABEL pairs, COPY
 * sources, EXPOSE ports, VOLUME paths). A word that expands to nothing is kept as "" only when
 * it was quoted.
 */
export function expandWords(text: string, lookup: Lookup, escape = '\\', used = new Set<string>()): string[] {
  return splitWords(text, escape).map((w) => expandWord(w, lookup, escape, used));
}

/** Splits on unquoted, unescaped whitespace; quotes and escapes stay in the words. */
export function splitWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote === null && /\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    cur += ch;
    if (ch === escape && quote !== "'" && i + 1 < text.length) {
      cur += text[++i];
      continue;
    }
    if (quote === null && (ch === '"' || ch === "'")) quote = ch;
    else if (quote === ch) quote = null;
  }
  if (quote !== null) throw new InvalidArgument(`unmatched ${quote} in: ${text}`);
  if (inWord) words.push(cur);
  return words;
}

class Lexer {
  #s: string;
  #i = 0;
  #lookup: Lookup;
  #esc: string;
  #used: Set<string>;

  constructor(s: string, lookup: Lookup, esc: string, used: Set<string>) {
    this.#s = s;
    this.#lookup = lookup;
    this.#esc = esc;
    this.#used = used;
  }

  /** The whole input as one word; `stop` ends it early (used inside ${V:-word}). */
  word(stop?: string): string {
    let out = '';
    while (this.#i < this.#s.length) {
      const ch = this.#s[this.#i] as string;
      if (stop !== undefined && ch === stop) break;
      if (ch === this.#esc) {
        this.#i++;
        if (this.#i < this.#s.length) out += this.#s[this.#i++];
        continue;
      }
      if (ch === "'") { out += this.#single(); continue; }
      if (ch === '"') { out += this.#double(); continue; }
      if (ch === '$') { out += this.#dollar(); continue; }
      out += ch;
      this.#i++;
    }
    return out;
  }

  #single(): string {
    const end = this.#s.indexOf("'", this.#i + 1);
    if (end < 0) throw new InvalidArgument(`unexpected end of statement while looking for matching single-quote in: ${this.#s}`);
    const v = this.#s.slice(this.#i + 1, end);
    this.#i = end + 1;
    return v;
  }

  #double(): string {
    this.#i++;
    let out = '';
    while (this.#i < this.#s.length) {
      const ch = this.#s[this.#i] as string;
      if (ch === '"') { this.#i++; return out; }
      if (ch === this.#esc) {
        const next = this.#s[this.#i + 1];
        if (next === '"' || next === '$' || next === this.#esc) { out += next; this.#i += 2; continue; }
        out += ch;
        this.#i++;
        continue;
      }
      if (ch === '$') { out += this.#dollar(); continue; }
      out += ch;
      this.#i++;
    }
    throw new InvalidArgument(`unexpected end of statement while looking for matching double-quote in: ${this.#s}`);
  }

  #dollar(): string {
    this.#i++; // the $
    const ch = this.#s[this.#i];
    if (ch === '{') {
      this.#i++;
      const name = this.#name();
      if (name === '') throw new InvalidArgument(`bad substitution in: ${this.#s}`);
      const c = this.#s[this.#i];
      if (c === '}') { this.#i++; return this.#get(name) ?? ''; }
      let mod = '';
      if (c === ':') { mod = ':'; this.#i++; }
      const op = this.#s[this.#i];
      if (op !== '-' && op !== '+' && op !== '?') {
        throw new InvalidArgument(`unsupported modifier (${mod}${op ?? ''}) in substitution: ${this.#s}`);
      }
      this.#i++;
      const word = this.word('}');
      if (this.#s[this.#i] !== '}') throw new InvalidArgument(`missing '}' in: ${this.#s}`);
      this.#i++;
      const value = this.#get(name);
      const set = mod === ':' ? value !== undefined && value !== '' : value !== undefined;
      if (op === '-') return set ? (value as string) : word;
      if (op === '+') return set ? word : '';
      if (!set) throw new InvalidArgument(`${name}: ${word || 'is not allowed to be unset'}`);
      return value as string;
    }
    if (ch !== undefined && NAME_START.test(ch)) return this.#get(this.#name()) ?? '';
    if (ch !== undefined && /[0-9]/.test(ch)) { this.#i++; return ''; }
    return '$';
  }

  #name(): string {
    const start = this.#i;
    while (this.#i < this.#s.length && NAME_CHAR.test(this.#s[this.#i] as string)) this.#i++;
    return this.#s.slice(start, this.#i);
  }

  #get(name: string): string | undefined {
    this.#used.add(name);
    return this.#lookup(name);
  }
}

/**
 * Substitutes variables in a heredoc body (unquoted delimiter): `$V`, `${V...}`; quotes and
 * backslashes other than before `$` stay as written.
 */
export function expandHeredoc(body: string, lookup: Lookup, escape = '\\', used = new Set<string>()): string {
  const e = escape;
  let prepared = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === e && body[i + 1] === '$') { prepared += e + '$'; i++; continue; }
    prepared += ch === e || ch === '"' || ch === "'" ? e + ch : ch;
  }
  return new Lexer(prepared, lookup, escape, used).word();
}
