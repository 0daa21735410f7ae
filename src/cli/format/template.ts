/**
 * Executes parsed templates over plain JS values with Go's text/template semantics: `.Field`
 * chains (zero-arg functions and getters are called, `{{.Label "x"}}` calls with arguments),
 * pipelines pass the previous value as the last argument, variables are scoped to control
 * blocks, `$` is the data. Errors read like Go's:
 * `template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type Row`.
 */

import { BUILTINS, FuncError, HEADER_FUNCS, type FuncTable, type TemplateFunc } from './funcs.js';
import { parseTemplate, TemplateError, type Arg, type Command, type Node, type Pipeline } from './parse.js';
import { goTypeName, isStructLike, printValue, truth } from './values.js';

export { TemplateError };

/** No value passed along the pipeline (distinct from an `undefined` value). */
const NONE = Symbol('none');
type Final = unknown;

class Break {}
class Continue {}

interface Var {
  name: string;
  value: unknown;
}

export interface TemplateOptions {
  /** Extra functions, callable as `{{name arg…}}`. */
  funcs?: Record<string, TemplateFunc>;
}

export class Template {
  readonly source: string;
  #nodes: Node[];
  #funcs: FuncTable;

  private constructor(source: string, nodes: Node[], funcs: FuncTable) {
    this.source = source;
    this.#nodes = nodes;
    this.#funcs = funcs;
  }

  /** Parses `source`; throws TemplateError on a syntax error or an unknown function. */
  static parse(source: string, opts: TemplateOptions = {}): Template {
    const funcs: FuncTable = { ...BUILTINS };
    for (const [name, fn] of Object.entries(opts.funcs ?? {})) funcs[name] = { fn, arity: [0] };
    return new Template(source, parseTemplate(source, new Set(Object.keys(funcs))), funcs);
  }

  /** Renders with `data` as dot; throws TemplateError on an execution error. */
  execute(data: unknown): string {
    return new Exec(this.source, this.#funcs, data).run(this.#nodes);
  }

  /**
   * Renders a table header: `data` maps field names to column titles, and docker's header
   * functions leave them as they are (`{{upper .Name}}` shows NAME, not an upper-cased name).
   * Like docker, stops quietly at the first error and keeps what was rendered.
   */
  executeHeader(header: Record<string, string>): string {
    // A Map, so that a field without a title prints "<no value>" as in docker, instead of failing.
    const exec = new Exec(this.source, { ...this.#funcs, ...HEADER_FUNCS }, new Map(Object.entries(header)));
    return exec.runPartial(this.#nodes);
  }
}

class Exec {
  #src: string;
  #funcs: FuncTable;
  #vars: Var[];
  #out = '';

  constructor(src: string, funcs: FuncTable, data: unknown) {
    this.#src = src;
    this.#funcs = funcs;
    this.#vars = [{ name: '$', value: data }];
  }

  run(nodes: Node[]): string {
    this.#walk(this.#vars[0]!.value, nodes);
    return this.#out;
  }

  runPartial(nodes: Node[]): string {
    try {
      this.#walk(this.#vars[0]!.value, nodes);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
    }
    return this.#out;
  }

  #fail(at: { pos: number; text: string }, msg: string): never {
    const before = this.#src.slice(0, at.pos);
    const line = before.split('\n').length;
    const col = at.pos - (before.lastIndexOf('\n') + 1);
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${at.text}>: ${msg}`);
  }

  #walk(dot: unknown, nodes: Node[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          this.#out += node.text;
          break;
        case 'action': {
          const v = this.#pipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.#out += printValue(v);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.#vars.length;
          const v = this.#pipeline(dot, node.pipe);
          if (truth(v)) this.#walk(node.kind === 'with' ? v : dot, node.list);
          else if (node.elseList) this.#walk(dot, node.elseList);
          this.#vars.length = mark;
          break;
        }
        case 'range':
          this.#range(dot, node);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  #range(dot: unknown, node: Extract<Node, { kind: 'range' }>): void {
    const mark = this.#vars.length;
    const v = this.#pipeline(dot, { ...node.pipe, decl: [] });
    const entries: [unknown, unknown][] = [];
    if (Array.isArray(v)) v.forEach((e, i) => entries.push([i, e]));
    else if (v instanceof Map) [...v.keys()].sort().forEach((k) => entries.push([k, v.get(k)]));
    else if (typeof v === 'number' && Number.isInteger(v)) for (let i = 0; i < v; i++) entries.push([i, i]);
    else if (v !== null && typeof v === 'object' && !isStructLike(v)) {
      const obj = v as Record<string, unknown>;
      Object.keys(obj).sort().forEach((k) => entries.push([k, obj[k]]));
    } else if (v !== null && v !== undefined) {
      this.#fail(node.pipe, `range can't iterate over ${printValue(v)}`);
    }
    const [first, second] = node.pipe.decl;
    for (const [key, elem] of entries) {
      this.#vars.length = mark;
      if (first !== undefined && second !== undefined) this.#vars.push({ name: first, value: key }, { name: second, value: elem });
      else if (first !== undefined) this.#vars.push({ name: first, value: elem });
      try {
        this.#walk(elem, node.list);
      } catch (err) {
        if (err instanceof Break) break;
        if (!(err instanceof Continue)) throw err;
      }
    }
    this.#vars.length = mark;
    if (entries.length === 0 && node.elseList) this.#walk(dot, node.elseList);
    this.#vars.length = mark;
  }

  #pipeline(dot: unknown, pipe: Pipeline): unknown {
    let value: Final = NONE;
    for (const cmd of pipe.cmds) value = this.#command(dot, cmd, value);
    for (const name of pipe.decl) {
      if (pipe.assign) {
        const v = this.#vars.findLast((x) => x.name === name);
        if (v) v.value = value;
      } else {
        this.#vars.push({ name, value });
      }
    }
    return value;
  }

  #lookup(arg: { name: string; pos: number; text: string }): unknown {
    const v = this.#vars.findLast((x) => x.name === arg.name);
    if (!v) this.#fail(arg, `undefined variable: ${arg.name}`);
    return v.value;
  }

  #command(dot: unknown, cmd: Command, final: Final): unknown {
    const [first, ...args] = cmd.args as [Arg, ...Arg[]];
    switch (first.kind) {
      case 'field':
        return this.#fieldChain(dot, dot, first.path, args, final, first);
      case 'chain':
        return this.#fieldChain(dot, this.#arg(dot, first.node), first.path, args, final, first);
      case 'var': {
        const v = this.#lookup(first);
        if (first.path.length > 0) return this.#fieldChain(dot, v, first.path, args, final, first);
        this.#noArgs(first, args, final);
        return v;
      }
      case 'ident':
        return this.#call(dot, first, cmd, args, final);
      case 'nil':
        this.#fail(first, 'nil is not a command');
      // falls through (never reached)
      default:
        this.#noArgs(first, args, final);
        return this.#arg(dot, first);
    }
  }

  #noArgs(first: Arg, args: Arg[], final: Final): void {
    if (args.length > 0 || final !== NONE) this.#fail(first, `can't give argument to non-function ${first.text}`);
  }

  /** An operand used as an argument (functions named here are called without arguments). */
  #arg(dot: unknown, arg: Arg): unknown {
    switch (arg.kind) {
      case 'dot':
        return dot;
      case 'field':
        return this.#fieldChain(dot, dot, arg.path, [], NONE, arg);
      case 'var': {
        const v = this.#lookup(arg);
        return arg.path.length > 0 ? this.#fieldChain(dot, v, arg.path, [], NONE, arg) : v;
      }
      case 'chain':
        return this.#fieldChain(dot, this.#arg(dot, arg.node), arg.path, [], NONE, arg);
      case 'pipe': {
        const mark = this.#vars.length;
        const v = this.#pipeline(dot, arg.pipe);
        this.#vars.length = mark;
        return v;
      }
      case 'ident':
        return this.#call(dot, arg, { pos: arg.pos, text: arg.text, args: [arg] }, [], NONE);
      case 'string':
      case 'number':
      case 'bool':
        return arg.value;
      case 'nil':
        return null;
    }
  }

  #fieldChain(dot: unknown, receiver: unknown, path: string[], args: Arg[], final: Final, node: Arg): unknown {
    let v = receiver;
    path.forEach((name, i) => {
      const last = i === path.length - 1;
      v = this.#field(dot, v, name, last ? args : [], last ? final : NONE, node);
    });
    return v;
  }

  #field(dot: unknown, receiver: unknown, name: string, args: Arg[], final: Final, node: Arg): unknown {
    const hasArgs = args.length > 0 || final !== NONE;
    if (receiver === undefined) return undefined; // a missing map entry: nothing below it either
    if (receiver === null) this.#fail(node, `nil pointer evaluating interface {}.${name}`);
    if (typeof receiver !== 'object' && typeof receiver !== 'function') {
      this.#fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    if (Array.isArray(receiver)) this.#fail(node, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    if (receiver instanceof Map) {
      if (hasArgs) this.#fail(node, `${name} is not a method but has arguments`);
      return receiver.get(name);
    }
    const obj = receiver as Record<string, unknown>;
    const has = Object.prototype.hasOwnProperty.call(obj, name) || (name in obj && !(name in Object.prototype));
    if (has) {
      const v = obj[name];
      if (typeof v === 'function') {
        const argv = args.map((a) => this.#arg(dot, a));
        if (final !== NONE) argv.push(final);
        try {
          return (v as TemplateFunc).apply(obj, argv);
        } catch (err) {
          if (err instanceof TemplateError) throw err;
          this.#fail(node, `error calling ${name}: ${(err as Error).message}`);
        }
      }
      if (hasArgs) {
        this.#fail(node, isStructLike(obj) ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`);
      }
      return v;
    }
    if (isStructLike(obj)) this.#fail(node, `can't evaluate field ${name} in type ${goTypeName(obj)}`);
    if (hasArgs) this.#fail(node, `${name} is not a method but has arguments`);
    return undefined;
  }

  #call(dot: unknown, ident: Extract<Arg, { kind: 'ident' }>, cmd: Command, args: Arg[], final: Final): unknown {
    const name = ident.name;
    const count = args.length + (final === NONE ? 0 : 1);
    const def = this.#funcs[name];
    if (!def) this.#fail(ident, `"${name}" is not a defined function`);
    if (typeof def.arity === 'number' ? count !== def.arity : count < def.arity[0]) {
      const want = typeof def.arity === 'number' ? `${def.arity}` : `at least ${def.arity[0]}`;
      this.#fail(ident, `wrong number of args for ${name}: want ${want} got ${count}`);
    }
    if (name === 'and' || name === 'or') {
      // Short-circuit: Go 1.18+ evaluates arguments only as far as needed.
      let v: unknown;
      const n = args.length + (final === NONE ? 0 : 1);
      for (let i = 0; i < n; i++) {
        v = i < args.length ? this.#arg(dot, args[i]!) : final;
        if (truth(v) === (name === 'or')) return v;
      }
      return v;
    }
    const argv = args.map((a) => this.#arg(dot, a));
    if (final !== NONE) argv.push(final);
    try {
      return def.fn(...argv);
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      if (err instanceof TypeError) this.#fail(cmd, (err as Error).message);
      this.#fail(cmd, err instanceof FuncError ? `error calling ${name}: ${err.message}` : `error calling ${name}: ${(err as Error).message}`);
    }
  }
}

/** Parses and renders in one step. */
export function formatTemplate(source: string, data: unknown, opts: TemplateOptions = {}): string {
  return Template.parse(source, opts).execute(data);
}
