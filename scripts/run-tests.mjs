#!/usr/bin/env node
// Runs the compiled tests with node's test runner. `unit`, `integration` or `compat` narrows the
// set; integration and compat tests need root, runc and conmon (README command 2 installs them).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const kinds = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'compat'];

function find(dir) {
  let out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = kinds.flatMap((k) => find(join(root, k)));
if (files.length === 0) {
  console.error(`no test files under ${kinds.map((k) => join(root, k)).join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
