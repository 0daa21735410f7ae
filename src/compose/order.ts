/**
 * The order services start and stop in: depends_on as a graph (compose-go's graph.go, compose's
 * InDependencyOrder / InReverseDependencyOrder). A cycle is an error naming it.
 */
import { InvalidArgument } from '../errdefs/index.js';
import type { Service } from './model.js';

/**
 * Levels of services: each level depends only on earlier ones, so a level's services can be
 * handled together. The graph is checked (cycles, undefined required dependencies) over `all`,
 * the whole project; dependencies outside `services` (`up --no-deps web`) are not waited for.
 */
export function dependencyLevels(services: Record<string, Service>, all: Record<string, Service> = services): string[][] {
  checkCycles(all);
  const done = new Set<string>();
  const levels: string[][] = [];
  const names = Object.keys(services).sort();
  while (done.size < names.length) {
    const level = names.filter((n) => !done.has(n) && Object.keys(services[n]!.dependsOn).every((d) => done.has(d) || !(d in services)));
    for (const n of level) done.add(n);
    levels.push(level);
  }
  return levels;
}

/** Every service name with the services it depends on, transitively (for `up web` starting db too). */
export function withDependencies(all: Record<string, Service>, names: string[]): string[] {
  const out = new Set<string>();
  const visit = (n: string): void => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of Object.keys(all[n]?.dependsOn ?? {})) if (d in all) visit(d);
  };
  for (const n of names) visit(n);
  return [...out];
}

export function checkCycles(services: Record<string, Service>): void {
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, c] of Object.entries(s.dependsOn)) {
      if (!(dep in services) && c.required) throw new InvalidArgument(`service "${name}" depends on undefined service "${dep}": invalid compose project`);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(n)), n];
      throw new InvalidArgument(`dependency cycle detected: ${cycle.join(' -> ')}`);
    }
    state.set(n, 'visiting');
    path.push(n);
    for (const d of Object.keys(services[n]?.dependsOn ?? {}).sort()) if (d in services) visit(d);
    path.pop();
    state.set(n, 'done');
  };
  for (const n of Object.keys(services).sort()) visit(n);
}

/**
 * The services that restart with `names` (depends_on's `restart: true`, followed transitively):
 * restarting or recreating a dependency restarts what declared it so. `names` are not included.
 */
export function restartDependents(all: Record<string, Service>, names: Iterable<string>): string[] {
  const changed = new Set(names);
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, s] of Object.entries(all)) {
      if (changed.has(name) || out.has(name)) continue;
      if (Object.entries(s.dependsOn).some(([d, c]) => c.restart && (changed.has(d) || out.has(d)))) {
        out.add(name);
        grew = true;
      }
    }
  }
  return [...out].sort();
}
