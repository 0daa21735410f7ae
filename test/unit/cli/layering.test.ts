import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Reads the TypeScript sources (dist/test/unit/cli/ -> the repository root).
const SRC = fileURLToPath(new URL('../../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file imports (static, re-exported or dynamic), as written. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) out.push((m[1] ?? m[2]) as string);
  return out;
}

/** "cli/commands/build.ts" for a relative import of `file`; null for node: and packages. */
function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
}

test('the CLI imports only client/, errdefs/, compose/ and the shared leaves archive/ and units/, each through its index.ts', () => {
  // `hako registry serve` runs the distribution server in the CLI's own process: a server, not a client of hakod.
  const allowed = new Set(['cli/commands/registry-serve.ts -> registry/index.ts']);
  const bad: string[] = [];
  for (const file of sources(join(SRC, 'cli'))) {
    for (const spec of importsOf(file)) {
      const to = target(file, spec);
      if (to === null || to.startsWith('cli/')) continue;
      const edge = `${relative(SRC, file)} -> ${to}`;
      if (allowed.has(edge)) continue;
      if (!/^(client|errdefs|archive|compose|units)\/index\.ts$/.test(to)) bad.push(edge);
    }
  }
  assert.deepEqual(bad, []);
});

/** Imports of the files under `dir` that leave it and are not node: built-ins nor one of `allowed` (src-relative paths). */
function foreignImports(dir: string, allowed: (to: string) => boolean, packages: readonly string[] = []): string[] {
  const bad: string[] = [];
  for (const file of sources(join(SRC, dir))) {
    for (const spec of importsOf(file)) {
      const to = target(file, spec);
      if (to === null ? spec.startsWith('node:') || packages.includes(spec) : to.startsWith(`${dir}/`) || allowed(to)) continue;
      bad.push(`${relative(SRC, file)} -> ${to ?? spec}`);
    }
  }
  return bad;
}

test('archive/ depends on nothing but node: built-ins and errdefs', () => {
  assert.deepEqual(foreignImports('archive', (to) => to === 'errdefs/index.ts'), []);
});

test('units/ depends on nothing but node: built-ins', () => {
  assert.deepEqual(foreignImports('units', () => false), []);
});

test('compose/ drives an engine through the API client only (no daemon-side code), so it can drive dockerd too', () => {
  assert.deepEqual(foreignImports('compose', (to) => /^(client|errdefs|archive|units)\/index\.ts$/.test(to), ['yaml']), []);
});
