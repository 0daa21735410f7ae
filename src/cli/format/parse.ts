/**
 * Parser for the subset of Go's text/template that docker's `--format` uses
 * (https://pkg.go.dev/text/template): actions, pipelines, variables, if/else, range, with,
 * break/continue, comments and `{{-`/`-}}` trim markers. Errors read like Go's
 * (`template: :1: unexpected "}" in operand`).
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export type Arg =
  | { kind: 'dot'; pos: number; text: string }
  | { kind: 'field'; pos: number; text: string; path: string[] }
  | { kind: 'var'; pos: number; text: string; name: string; path: string[] }
  | { kind: 'ident'; pos: number; text: string; name: string }
  | { kind: 'string'; pos: number; text: string; value: string }
  | { kind: 'number'; pos: number; text: string; value: number }
  | { kind: 'bool'; pos: number; text: string; value: boolean }
  | { kind: 'nil'; pos: number; text: string }
  | { kind: 'pipe'; pos: number; text: string; pipe: Pipeline }
  | { kind: 'chain'; pos: number; text: string; node: Arg; path: string[] };

export interface Command {
  pos: number;
  text: string;
  args: Arg[];
}

export interface Pipeline {
  pos: number;
  text: string;
  decl: string[];
  /** `$x = …` assigns an existing variable; `$x := …` declares one. */
  assign: boolean;
  cmds: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipeline }
  | { kind: 'if' | 'with'; pos: number; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { kind: 'range'; pos: number; pipe: Pipeline; list: Node[]; elseList: Node[] | undefined }
  | { kind: 'break' | 'continue'; pos: number };

type TokKind = 'text' | 'left' | 'right' | 'space' | 'dot' | 'field' | 'var' | 'ident' | 'string' | 'number' | 'char' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'eof';

interface Tok {
  kind: TokKind;
  pos: number;
  text: string;
}

const SPACE_RE = /[ \t\r\n]/;
const IDENT_RE = /[A-Za-z0-9_]/;

/** Splits the template into text and action tokens (Go's lexer, without its goroutine). */
function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const lineOf = (pos: number): number => src.slice(0, pos).split('\n').length;
  const fail = (pos: number, msg: string): never => {
    throw new TemplateError(`template: :${lineOf(pos)}: ${msg}`);
  };
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let textEnd = open < 0 ? src.length : open;
    const trimLeft = open >= 0 && src[open + 2] === '-' && SPACE_RE.test(src[open + 3] ?? '');
    let text = src.slice(i, textEnd);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) toks.push({ kind: 'text', pos: i, text });
    if (open < 0) break;
    i = open + 2 + (trimLeft ? 2 : 0);
    // Comments: {{/* … */}}, with optional trim markers.
    const afterSpace = src.slice(i);
    if (afterSpace.startsWith('/*')) {
      const close = src.indexOf('*/', i);
      if (close < 0) fail(open, 'unclosed comment');
      let j = close + 2;
      let trimRight = false;
      if (src.startsWith(' -}}', j)) {
        trimRight = true;
        j += 4;
      } else if (src.startsWith('}}', j)) {
        j += 2;
      } else fail(open, 'comment ends before closing delimiter');
      i = trimRight ? skipSpace(src, j) : j;
      continue;
    }
    toks.push({ kind: 'left', pos: open, text: '{{' });
    // Action body.
    for (;;) {
      if (i >= src.length) fail(open, 'unclosed action');
      if (src.startsWith('}}', i)) {
        toks.push({ kind: 'right', pos: i, text: '}}' });
        i += 2;
        break;
      }
      const c = src[i]!;
      if (SPACE_RE.test(c)) {
        const start = i;
        while (i < src.length && SPACE_RE.test(src[i]!)) i++;
        if (src.startsWith('-}}', i) && i > start) {
          toks.push({ kind: 'right', pos: i, text: '}}' });
          i = skipSpace(src, i + 3);
          break;
        }
        toks.push({ kind: 'space', pos: start, text: src.slice(start, i) });
        continue;
      }
      const start = i;
      if (c === '|') {
        toks.push({ kind: 'pipe', pos: i++, text: '|' });
      } else if (c === '(') {
        toks.push({ kind: 'lparen', pos: i++, text: '(' });
      } else if (c === ')') {
        toks.push({ kind: 'rparen', pos: i++, text: ')' });
      } else if (c === ',') {
        toks.push({ kind: 'comma', pos: i++, text: ',' });
      } else if (c === ':' && src[i + 1] === '=') {
        toks.push({ kind: 'declare', pos: i, text: ':=' });
        i += 2;
      } else if (c === '=') {
        toks.push({ kind: 'assign', pos: i++, text: '=' });
      } else if (c === '"') {
        i++;
        while (i < src.length && src[i] !== '"') {
          if (src[i] === '\\') i++;
          if (src[i] === '\n') fail(start, 'unterminated quoted string');
          i++;
        }
        if (i >= src.length) fail(start, 'unterminated quoted string');
        i++;
        toks.push({ kind: 'string', pos: start, text: src.slice(start, i) });
      } else if (c === '`') {
        const close = src.indexOf('`', i + 1);
        if (close < 0) fail(start, 'unterminated raw quoted string');
        i = close + 1;
        toks.push({ kind: 'string', pos: start, text: src.slice(start, i) });
      } else if (c === "'") {
        i++;
        while (i < src.length && src[i] !== "'") {
          if (src[i] === '\\') i++;
          i++;
        }
        i++;
        toks.push({ kind: 'char', pos: start, text: src.slice(start, i) });
      } else if (c === '.' || c === '$') {
        // `.`, `.A.B`, `$`, `$x`, `$x.A` (a field chain is one token here).
        i++;
        if (c === '$') while (i < src.length && IDENT_RE.test(src[i]!)) i++;
        if (c === '.' && /[0-9]/.test(src[i] ?? '')) {
          while (i < src.length && /[0-9.eE_+-]/.test(src[i]!)) i++;
          toks.push({ kind: 'number', pos: start, text: src.slice(start, i) });
          continue;
        }
        if (c === '.' && !IDENT_RE.test(src[i] ?? '')) {
          toks.push({ kind: 'dot', pos: start, text: '.' });
          continue;
        }
        if (c === '.') while (i < src.length && IDENT_RE.test(src[i]!)) i++;
        while (src[i] === '.' && IDENT_RE.test(src[i + 1] ?? '')) {
          i++;
          while (i < src.length && IDENT_RE.test(src[i]!)) i++;
        }
        toks.push({ kind: c === '$' ? 'var' : 'field', pos: start, text: src.slice(start, i) });
      } else if (/[0-9+-]/.test(c)) {
        i++;
        while (i < src.length && /[0-9a-fA-FxXoObB._+-]/.test(src[i]!)) {
          if ((src[i] === '+' || src[i] === '-') && !/[eEpP]/.test(src[i - 1]!)) break;
          i++;
        }
        toks.push({ kind: 'number', pos: start, text: src.slice(start, i) });
      } else if (IDENT_RE.test(c)) {
        while (i < src.length && IDENT_RE.test(src[i]!)) i++;
        toks.push({ kind: 'ident', pos: start, text: src.slice(start, i) });
      } else {
        fail(start, `unexpected ${JSON.stringify(c)} in command`);
      }
    }
  }
  toks.push({ kind: 'eof', pos: src.length, text: '' });
  return toks;
}

function skipSpace(src: string, i: number): number {
  while (i < src.length && SPACE_RE.test(src[i]!)) i++;
  return i;
}

/** Go's strconv.Unquote for the quoted forms the lexer accepts. */
function unquote(text: string, fail: (msg: string) => never): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (e !== undefined && simple[e] !== undefined) {
      out += simple[e];
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) fail(`invalid syntax: ${text}`);
      out += e === 'x' ? String.fromCharCode(parseInt(hex, 16)) : String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else {
      fail(`invalid syntax: ${text}`);
    }
  }
  return out;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

class Parser {
  #toks: Tok[];
  #i = 0;
  #src: string;
  #funcs: ReadonlySet<string>;
  #vars: string[][] = [['$']];
  #rangeDepth = 0;

  constructor(src: string, funcs: ReadonlySet<string>) {
    this.#src = src;
    this.#funcs = funcs;
    this.#toks = lex(src);
  }

  #fail(pos: number, msg: string): never {
    throw new TemplateError(`template: :${this.#src.slice(0, pos).split('\n').length}: ${msg}`);
  }

  #peek(): Tok {
    return this.#toks[this.#i]!;
  }

  #next(): Tok {
    return this.#toks[this.#i++]!;
  }

  #peekNonSpace(): Tok {
    while (this.#peek().kind === 'space') this.#i++;
    return this.#peek();
  }

  #nextNonSpace(): Tok {
    this.#peekNonSpace();
    return this.#next();
  }

  parse(): Node[] {
    const { list, end } = this.#list();
    if (end) this.#fail(end.pos, `unexpected {{${end.word}}}`);
    return list;
  }

  /** Nodes up to an `{{end}}`/`{{else …}}` (returned as `end`) or the end of input. */
  #list(): { list: Node[]; end: { word: 'end' | 'else'; pos: number } | undefined } {
    const list: Node[] = [];
    for (;;) {
      const t = this.#next();
      if (t.kind === 'eof') return { list, end: undefined };
      if (t.kind === 'text') {
        list.push({ kind: 'text', text: t.text });
        continue;
      }
      // t is '{{'
      const w = this.#peekNonSpace();
      if (w.kind === 'ident' && KEYWORDS.has(w.text)) {
        this.#next();
        switch (w.text) {
          case 'end':
            this.#expectRight('end');
            return { list, end: { word: 'end', pos: w.pos } };
          case 'else':
            // `{{else}}` ends here; `{{else if …}}` leaves the `if …` for the caller.
            return { list, end: { word: 'else', pos: w.pos } };
          case 'if':
          case 'with':
          case 'range':
            list.push(this.#control(w.text, w.pos));
            continue;
          case 'break':
          case 'continue':
            if (this.#rangeDepth === 0) this.#fail(w.pos, `{{${w.text}}} outside {{range}}`);
            this.#expectRight(w.text);
            list.push({ kind: w.text, pos: w.pos });
            continue;
          default:
            this.#fail(w.pos, `{{${w.text}}} is not supported in --format templates`);
        }
      }
      const pipe = this.#pipeline('command', true);
      list.push({ kind: 'action', pos: pipe.pos, pipe });
    }
  }

  #expectRight(context: string): void {
    const t = this.#nextNonSpace();
    if (t.kind !== 'right') this.#fail(t.pos, `unexpected ${describe(t)} in ${context}`);
  }

  #control(kind: 'if' | 'with' | 'range', pos: number): Node {
    this.#vars.push([]);
    const pipe = this.#pipeline(kind, true);
    if (kind === 'range') this.#rangeDepth++;
    const body = this.#list();
    if (kind === 'range') this.#rangeDepth--;
    this.#vars.pop();
    if (!body.end) this.#fail(this.#src.length, 'unexpected EOF');
    let elseList: Node[] | undefined;
    if (body.end.word === 'else') {
      const next = this.#peekNonSpace();
      if ((kind === 'if' || kind === 'with') && next.kind === 'ident' && next.text === kind) {
        // `{{else if …}}` is an `if` nested in the else branch that shares our `{{end}}`.
        this.#next();
        elseList = [this.#control(kind, next.pos)];
      } else {
        this.#expectRight('else');
        this.#vars.push([]);
        const alt = this.#list();
        this.#vars.pop();
        if (!alt.end) this.#fail(this.#src.length, 'unexpected EOF');
        if (alt.end.word !== 'end') this.#fail(alt.end.pos, 'expected end; found {{else}}');
        elseList = alt.list;
      }
    }
    return { kind, pos, pipe, list: body.list, elseList };
  }

  /** A pipeline up to `}}` (or `)` when `inParens`), with an optional `$x :=` / `$i, $e :=` declaration. */
  #pipeline(context: string, toRight: boolean): Pipeline {
    const first = this.#peekNonSpace();
    const pos = first.pos;
    const decl: string[] = [];
    let assign = false;
    // Look ahead for a declaration: $x := | $x = | $i, $e :=
    const save = this.#i;
    const v1 = this.#nextNonSpace();
    if (v1.kind === 'var' && !v1.text.includes('.')) {
      const op = this.#nextNonSpace();
      if (op.kind === 'declare' || op.kind === 'assign') {
        decl.push(v1.text);
        assign = op.kind === 'assign';
      } else if (op.kind === 'comma' && context === 'range') {
        const v2 = this.#nextNonSpace();
        const op2 = this.#nextNonSpace();
        if (v2.kind !== 'var' || (op2.kind !== 'declare' && op2.kind !== 'assign')) this.#fail(v2.pos, 'range can only initialize variables');
        decl.push(v1.text, v2.text);
        assign = op2.kind === 'assign';
      } else {
        this.#i = save;
      }
    } else {
      this.#i = save;
    }
    if (assign) {
      for (const name of decl) if (!this.#known(name)) this.#fail(pos, `undefined variable "${name}"`);
    } else {
      this.#vars.at(-1)!.push(...decl);
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.#peekNonSpace();
      if ((toRight && t.kind === 'right') || (!toRight && t.kind === 'rparen')) {
        this.#next();
        break;
      }
      cmds.push(this.#command());
      const sep = this.#peekNonSpace();
      if (sep.kind === 'pipe') {
        this.#next();
        continue;
      }
    }
    if (cmds.length === 0) this.#fail(pos, `missing value for ${context}`);
    const end = this.#toks[this.#i - 1]!.pos;
    return { pos, text: this.#src.slice(pos, end).trim(), decl, assign, cmds };
  }

  #known(name: string): boolean {
    return this.#vars.some((scope) => scope.includes(name));
  }

  #command(): Command {
    const args: Arg[] = [];
    const pos = this.#peekNonSpace().pos;
    for (;;) {
      const t = this.#peek();
      if (t.kind === 'space') {
        this.#next();
        continue;
      }
      if (t.kind === 'right' || t.kind === 'rparen' || t.kind === 'pipe') break;
      args.push(this.#operand());
      const after = this.#peek();
      if (after.kind !== 'space' && after.kind !== 'right' && after.kind !== 'rparen' && after.kind !== 'pipe') {
        this.#fail(after.pos, `unexpected ${describe(after)} in operand`);
      }
    }
    if (args.length === 0) this.#fail(pos, `missing value for command`);
    const last = args.at(-1)!;
    return { pos, text: this.#src.slice(pos, last.pos + last.text.length), args };
  }

  #operand(): Arg {
    const t = this.#next();
    let arg: Arg;
    switch (t.kind) {
      case 'dot':
        arg = { kind: 'dot', pos: t.pos, text: t.text };
        break;
      case 'field':
        arg = { kind: 'field', pos: t.pos, text: t.text, path: t.text.slice(1).split('.') };
        break;
      case 'var': {
        const [name, ...path] = t.text.split('.');
        if (!this.#known(name!)) this.#fail(t.pos, `undefined variable "${name}"`);
        arg = { kind: 'var', pos: t.pos, text: t.text, name: name!, path };
        break;
      }
      case 'ident':
        if (t.text === 'true' || t.text === 'false') arg = { kind: 'bool', pos: t.pos, text: t.text, value: t.text === 'true' };
        else if (t.text === 'nil') arg = { kind: 'nil', pos: t.pos, text: t.text };
        else {
          if (!this.#funcs.has(t.text)) this.#fail(t.pos, `function "${t.text}" not defined`);
          arg = { kind: 'ident', pos: t.pos, text: t.text, name: t.text };
        }
        break;
      case 'string':
        arg = { kind: 'string', pos: t.pos, text: t.text, value: unquote(t.text, (m) => this.#fail(t.pos, m)) };
        break;
      case 'char': {
        const s = unquote(`"${t.text.slice(1, -1).replace(/"/g, '\\"')}"`, (m) => this.#fail(t.pos, m));
        arg = { kind: 'number', pos: t.pos, text: t.text, value: s.codePointAt(0) ?? 0 };
        break;
      }
      case 'number': {
        const value = parseNumber(t.text);
        if (Number.isNaN(value)) this.#fail(t.pos, `illegal number syntax: ${JSON.stringify(t.text)}`);
        arg = { kind: 'number', pos: t.pos, text: t.text, value };
        break;
      }
      case 'lparen': {
        const pipe = this.#pipeline('parenthesized pipeline', false);
        arg = { kind: 'pipe', pos: t.pos, text: this.#src.slice(t.pos, this.#toks[this.#i - 1]!.pos + 1), pipe };
        break;
      }
      default:
        this.#fail(t.pos, `unexpected ${describe(t)} in operand`);
    }
    // `(pipeline).Field` and `$x.A` chains: a field token glued to the operand.
    const next = this.#peek();
    if (next.kind === 'field' && (arg.kind === 'pipe' || arg.kind === 'nil')) {
      this.#next();
      arg = { kind: 'chain', pos: arg.pos, text: arg.text + next.text, node: arg, path: next.text.slice(1).split('.') };
    }
    return arg;
  }
}

function parseNumber(text: string): number {
  const clean = text.replace(/_/g, '');
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(clean)) return Number.parseInt(clean, 16);
  if (/^[+-]?0[oO][0-7]+$/.test(clean)) return Number.parseInt(clean.replace(/0[oO]/, ''), 8);
  if (/^[+-]?0[bB][01]+$/.test(clean)) return Number.parseInt(clean.replace(/0[bB]/, ''), 2);
  if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(clean)) return Number(clean);
  return NaN;
}

function describe(t: Tok): string {
  switch (t.kind) {
    case 'eof':
      return 'EOF';
    case 'right':
      return '"}}"';
    default:
      return JSON.stringify(t.text);
  }
}

/** Parses `src`; `funcs` are the names of the functions the template may call. */
export function parseTemplate(src: string, funcs: ReadonlySet<string>): Node[] {
  return new Parser(src, funcs).parse();
}
