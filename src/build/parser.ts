/**
 * The Dockerfile parser (../shared/reference/dockerfile-reference/reference.md): parser
 * directives, comments, line continuations (empty continuation lines allowed), heredocs, flags,
 * exec vs shell form. Pure: text in, instructions and warnings out. Variable substitution is
 * left to the executor, which knows the values (shell-words.ts).
 */
import { InvalidArgument } from '../errdefs/index.js';
import { splitWords } from './shell-words.js';
import { AUTOMATIC_PLATFORM_ARGS, Checks, referencedVars } from './checks.js';

export interface Heredoc {
  /** The delimiter word, e.g. "EOF". */
  name: string;
  /** The body, each line ending in "\n". */
  content: string;
  /** `<<-EOF`: leading tabs stripped. */
  chomp: boolean;
  /** `<<"EOF"` / `<<'EOF'`: no variable expansion in the body. */
  quoted: boolean;
}

export interface Instruction {
  /** Lower-case keyword: "from", "run", ... */
  cmd: string;
  /** The instruction as written after its keyword, continuations joined, flags removed. */
  rest: string;
  /** The instruction as written, continuations joined (for messages and ONBUILD). */
  original: string;
  /** `--name=value` flags before the arguments, in order. */
  flags: Array<{ name: string; value: string | null }>;
  /** Exec form (JSON array) arguments, or null for shell form. */
  json: string[] | null;
  heredocs: Heredoc[];
  /** 1-based line of the keyword, and of the last line the instruction spans. */
  line: number;
  endLine: number;
}

export interface ParsedDockerfile {
  instructions: Instruction[];
  directives: { syntax?: string; escape: string; check?: string };
  warnings: string[];
}

export const INSTRUCTIONS = new Set([
  'from', 'run', 'cmd', 'entrypoint', 'label', 'expose', 'env', 'add', 'copy', 'workdir', 'user',
  'arg', 'volume', 'stopsignal', 'healthcheck', 'shell', 'onbuild', 'maintainer',
]);

/** Instructions that take `--flag` options, and the flags each knows. */
const FLAGS: Record<string, Set<string>> = {
  from: new Set(['platform']),
  run: new Set(['mount', 'network', 'security']),
  copy: new Set(['from', 'chown', 'chmod', 'link', 'parents', 'exclude']),
  add: new Set(['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude']),
  healthcheck: new Set(['interval', 'timeout', 'start-period', 'start-interval', 'retries']),
};

/** Instructions that may carry heredocs (reference.md "Here-Documents"). */
const HEREDOC_CMDS = new Set(['run', 'copy', 'add']);

export class DockerfileError extends InvalidArgument {}

/** Parses `text` (the file's name is `file`, for messages such as "Dockerfile:7: ..."). */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const fail = (line: number, msg: string): never => { throw new DockerfileError(`${file}:${line}: ${msg}`); };
  const directives: ParsedDockerfile['directives'] = { escape: '\\' };
  let checkLine = 1;

  // Parser directives: `# key=value` lines at the very top, before any comment or blank line.
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i] as string);
    if (!m) break;
    const key = (m[1] as string).toLowerCase();
    if (!['syntax', 'escape', 'check'].includes(key)) break;
    if (seen.has(key)) fail(i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    const value = m[2] as string;
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') fail(i + 1, `invalid escape token '${value}' does not match ` + '` or \\');
      directives.escape = value;
    } else if (key === 'syntax') directives.syntax = value;
    else {
      directives.check = value;
      checkLine = i + 1;
    }
  }
  const esc = directives.escape;
  const checks = new Checks(file, directives.check, (msg) => fail(checkLine, msg));
  // ARGs declared before the first FROM: the only ones a FROM line may use (UndefinedArgInFrom).
  const globalArgs = new Set<string>();
  let sawFrom = false;

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const raw = lines[i] as string;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) { i++; continue; }
    const start = i + 1;
    // Join continuation lines; comment lines and empty lines inside a continuation are dropped.
    let logical = '';
    let cur = raw;
    for (;;) {
      const t = cur.replace(/\s+$/, '');
      if (t.endsWith(esc)) {
        logical += t.slice(0, -1);
        i++;
        while (i < lines.length) {
          const next = (lines[i] as string).trim();
          if (next.startsWith('#')) { i++; continue; }
          if (next === '') { checks.warn('NoEmptyContinuation', i + 1, 'empty continuation line (a future Dockerfile syntax refuses it)'); i++; continue; }
          break;
        }
        if (i >= lines.length) break;
        cur = lines[i] as string;
        continue;
      }
      logical += cur;
      i++;
      break;
    }
    const endLine = i;
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(logical);
    const keyword = m?.[1] ?? '';
    const cmd = keyword.toLowerCase();
    if (!INSTRUCTIONS.has(cmd)) fail(start, `unknown instruction: ${keyword}`);
    let rest = (m?.[2] ?? '').trim();

    const heredocs: Heredoc[] = [];
    if (HEREDOC_CMDS.has(cmd) && directives.syntax !== 'docker/dockerfile:1.0') {
      for (const marker of heredocMarkers(rest)) {
        const body: string[] = [];
        let closed = false;
        while (i < lines.length) {
          let l = lines[i++] as string;
          if (marker.chomp) l = l.replace(/^\t+/, '');
          if (l === marker.name) { closed = true; break; }
          body.push(l + '\n');
        }
        if (!closed) fail(start, `unterminated heredoc <<${marker.name} (no line "${marker.name}" closes it)`);
        heredocs.push({ ...marker, content: body.join('') });
      }
    }

    const flags: Instruction['flags'] = [];
    const known = FLAGS[cmd];
    if (known) {
      for (;;) {
        const fm = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
        if (!fm) break;
        // HEALTHCHECK's options come before CMD; elsewhere a `--x` after the first argument is an argument.
        const name = fm[1] as string;
        if (!known.has(name)) fail(start, `${keyword.toUpperCase()}: unknown flag: --${name}`);
        flags.push({ name, value: fm[2] ?? null });
        rest = rest.slice(fm[0].length);
      }
    }

    let json: string[] | null = null;
    if (['run', 'cmd', 'entrypoint', 'shell', 'copy', 'add', 'volume'].includes(cmd) && rest.startsWith('[')) {
      json = parseJsonArray(rest);
      if (json === null && ['cmd', 'entrypoint', 'run'].includes(cmd) && /^\[\s*'/.test(rest)) {
        checks.warn('JSONArgsRecommended', start, `JSON arguments recommended for ${keyword.toUpperCase()}: '[...]' with single quotes is not JSON and runs as a shell command`);
      }
      if (json === null && cmd === 'shell') fail(start, 'SHELL requires the arguments to be in JSON form');
    } else if (cmd === 'shell') fail(start, 'SHELL requires the arguments to be in JSON form');
    if (cmd === 'healthcheck' && /^CMD\s+\[/i.test(rest)) json = parseJsonArray(rest.replace(/^CMD\s+/i, ''));

    const ins: Instruction = { cmd, rest, original: logical.trim(), flags, json, heredocs, line: start, endLine };
    validate(ins, keyword.toUpperCase(), (msg) => fail(start, msg), checks, esc);
    if (cmd === 'arg' && !sawFrom) for (const w of splitWords(rest, esc)) globalArgs.add(w.split('=')[0] as string);
    if (cmd === 'from') {
      sawFrom = true;
      const platform = flags.find((f) => f.name === 'platform')?.value ?? '';
      for (const name of referencedVars(`${splitWords(rest, esc)[0] ?? ''} ${platform}`, esc)) {
        if (!globalArgs.has(name) && !AUTOMATIC_PLATFORM_ARGS.has(name)) checks.warn('UndefinedArgInFrom', start, `FROM argument '${name}' is not declared`);
      }
    }
    instructions.push(ins);
  }
  const violations = checks.violations();
  if (violations) throw new DockerfileError(`${violations}\n${checks.warnings.join('\n')}`);
  return { instructions, directives, warnings: checks.warnings };
}

function heredocMarkers(rest: string): Array<Omit<Heredoc, 'content'>> {
  const out: Array<Omit<Heredoc, 'content'>> = [];
  const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    // `<<<` is a here-string of the shell, not a heredoc.
    if (m.index > 0 && rest[m.index - 1] === '<') continue;
    out.push({ name: m[3] as string, chomp: m[1] === '-', quoted: m[2] !== '' });
  }
  return out;
}

/** A JSON array of strings, or null when `text` is not one (then it is shell form). */
export function parseJsonArray(text: string): string[] | null {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  } catch {
    // not JSON: shell form
  }
  return null;
}

function validate(ins: Instruction, kw: string, fail: (msg: string) => never, checks: Checks, esc: string): void {
  const words = (): string[] => splitWords(ins.rest, esc);
  switch (ins.cmd) {
    case 'from': {
      const w = words();
      if (w.length !== 1 && !(w.length === 3 && (w[1] as string).toLowerCase() === 'as')) {
        fail('FROM requires either one or three arguments: FROM <image> [AS <name>]');
      }
      if (w.length === 3 && !/^[a-zA-Z][a-zA-Z0-9._-]*$/.test(w[2] as string)) fail(`invalid name for build stage: "${w[2]}", name can't start with a number or contain symbols`);
      break;
    }
    case 'copy':
    case 'add':
      if (ins.json ? ins.json.length < 2 : words().length < 2 && ins.heredocs.length === 0) fail(`${kw} requires at least two arguments, but only one was provided. Destination could not be determined`);
      if (ins.heredocs.length > 0 && words().length < 2) fail(`${kw} requires at least two arguments, but only one was provided. Destination could not be determined`);
      break;
    case 'env':
    case 'label': {
      const w = words();
      if (w.length === 0) fail(`${kw} requires at least one argument`);
      if (!(w[0] as string).includes('=')) {
        if (w.length < 2) fail(`${kw} must have two arguments`);
        checks.warn('LegacyKeyValueFormat', ins.line, `legacy key/value format with whitespace separator should not be used: use "${kw} key=value"`);
      } else if (w.some((x) => !x.includes('='))) fail(`${kw} names can not be blank`);
      break;
    }
    case 'arg':
    case 'workdir':
    case 'user':
    case 'stopsignal':
    case 'expose':
    case 'volume':
    case 'maintainer':
    case 'onbuild':
      if (ins.rest === '') fail(`${kw} requires at least one argument`);
      if (['workdir', 'user', 'stopsignal'].includes(ins.cmd) && words().length !== 1) fail(`${kw} requires exactly one argument`);
      if (ins.cmd === 'maintainer') checks.warn('MaintainerDeprecated', ins.line, 'the MAINTAINER instruction is deprecated: use LABEL org.opencontainers.image.authors=...');
      if (ins.cmd === 'onbuild') {
        const inner = (/^(\S+)/.exec(ins.rest)?.[1] ?? '').toLowerCase();
        if (inner === 'onbuild') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (inner === 'from' || inner === 'maintainer') fail(`${inner.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        if (!INSTRUCTIONS.has(inner)) fail(`unknown instruction: ${inner.toUpperCase()}`);
      }
      if (ins.cmd === 'arg') {
        for (const a of words()) if (!/^[A-Za-z_][A-Za-z0-9_]*(=|$)/.test(a)) fail(`ARG names can not be blank or hold symbols: ${a}`);
      }
      break;
    case 'run':
    case 'cmd':
    case 'entrypoint':
      if (ins.rest === '' && ins.cmd === 'run') fail('RUN requires at least one argument');
      break;
    case 'healthcheck': {
      const r = ins.rest.trim();
      if (/^NONE$/i.test(r)) {
        if (ins.flags.length > 0) fail('HEALTHCHECK NONE takes no options');
      } else if (!/^CMD(\s|$)/i.test(r)) fail('HEALTHCHECK requires "CMD <command>" or "NONE"');
      else if (r.replace(/^CMD/i, '').trim() === '') fail('Missing command after HEALTHCHECK CMD');
      break;
    }
    default:
      break;
  }
}

/** The value of flag `name` (the last one given), or undefined. */
export function flagValue(ins: Instruction, name: string): string | undefined {
  let v: string | undefined;
  for (const f of ins.flags) if (f.name === name) v = f.value ?? 'true';
  return v;
}
