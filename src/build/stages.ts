/**
 * The stage graph of a parsed Dockerfile: global ARGs (before the first FROM), stages with their
 * names, and which stages a target needs (its FROM chain and every `COPY --from`).
 */
import { InvalidArgument } from '../errdefs/index.js';
import { flagValue, type Instruction } from './parser.js';
import { expandWord, splitWords, type Lookup } from './shell-words.js';

export interface Stage {
  index: number;
  /** Lower-case `AS` name, or null. */
  name: string | null;
  from: Instruction;
  /** The FROM's image reference before substitution. */
  baseRaw: string;
  instructions: Instruction[];
}

export interface StageGraph {
  globalArgs: Instruction[];
  stages: Stage[];
}

export function stageGraph(instructions: readonly Instruction[], file = 'Dockerfile'): StageGraph {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'from') {
      const w = splitWords(ins.rest);
      const name = w.length === 3 ? (w[2] as string).toLowerCase() : null;
      if (name !== null && stages.some((s) => s.name === name)) {
        throw new InvalidArgument(`${file}:${ins.line}: duplicate stage name "${name}"`);
      }
      stages.push({ index: stages.length, name, from: ins, baseRaw: w[0] as string, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.cmd !== 'arg') throw new InvalidArgument(`${file}:${ins.line}: no build stage in current context: ${ins.cmd.toUpperCase()} comes before the first FROM`);
      globalArgs.push(ins);
    } else (stages.at(-1) as Stage).instructions.push(ins);
  }
  if (stages.length === 0) throw new InvalidArgument(`${file}: file with no instructions: a Dockerfile needs at least one FROM`);
  return { globalArgs, stages };
}

/** The stage a `--target`/`--from`/FROM name refers to: a stage name or index, or null (an image). */
export function stageByName(graph: StageGraph, ref: string, before: number): Stage | null {
  const lower = ref.toLowerCase();
  const named = graph.stages.find((s) => s.name === lower && s.index < before);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const s = graph.stages[Number(ref)];
    if (!s || s.index >= before) throw new InvalidArgument(`invalid stage index ${ref}: only stages before this one can be referenced`);
    return s;
  }
  return null;
}

/** The target stage and the stages it needs, in build order (dependencies first). */
export function neededStages(graph: StageGraph, target: string | undefined, globalLookup: Lookup): Stage[] {
  let last = graph.stages.at(-1) as Stage;
  if (target) {
    const t = graph.stages.find((s) => s.name === target.toLowerCase());
    if (!t) throw new InvalidArgument(`failed to reach build target ${target} in Dockerfile`);
    last = t;
  }
  const need = new Set<number>();
  const visit = (s: Stage): void => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const base = stageByName(graph, expandWord(s.baseRaw, globalLookup), s.index);
    if (base) visit(base);
    for (const dep of stageDeps(graph, s, globalLookup)) visit(dep);
  };
  visit(last);
  return graph.stages.filter((s) => need.has(s.index));
}

/** The stages `s` reads: its FROM stage, `COPY --from` and `RUN --mount=…,from=` stages. */
export function stageDeps(graph: StageGraph, s: Stage, globalLookup: Lookup): Stage[] {
  const out = new Set<Stage>();
  const base = stageByName(graph, expandWord(s.baseRaw, globalLookup), s.index);
  if (base) out.add(base);
  for (const ins of s.instructions) {
    const froms: string[] = [];
    if (ins.cmd === 'copy' || ins.cmd === 'add') {
      const from = flagValue(ins, 'from');
      if (from !== undefined) froms.push(from);
    } else if (ins.cmd === 'run') {
      for (const f of ins.flags) {
        const m = f.name === 'mount' ? /(?:^|,)from=([^,]+)/.exec(f.value ?? '') : null;
        if (m) froms.push(m[1] as string);
      }
    }
    for (const from of froms) {
      const dep = stageByName(graph, from, s.index);
      if (dep) out.add(dep);
    }
  }
  return [...out];
}
