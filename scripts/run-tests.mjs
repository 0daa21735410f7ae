#!/usr/bin/env node
// Runs the compiled tests with node's test runner. `unit`, `integration` or `compat` narrows the
// set; integration and compat tests need root, runc and conmon (README command 2 installs them).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const kinds = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'compat'];

// Known timing-flaky files, each with the reason in a comment. They run on their own first and
// get up to three attempts; a failure in all three still fails the run. Empty: the native
// socket tests' flake was the test's own race (it listened for 'close' after the socket had
// already closed), fixed in session 2.
const RETRIED = new Set([]);

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
const runner = (list) => spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=180000', ...list], { stdio: 'inherit' }).status ?? 1;

let status = 0;
for (const file of files.filter((f) => RETRIED.has(f))) {
  let code = 1;
  for (let attempt = 1; attempt <= 3 && code !== 0; attempt++) {
    if (attempt > 1) console.log(`# retrying ${file} (attempt ${attempt} of 3)`);
    code = runner([file]);
  }
  if (code !== 0) status = code;
}
// node's runner orders the files it is given by path (compat before integration before unit), so
// the check that the whole suite left nothing behind runs on its own, after everything else.
const LAST = files.filter((f) => f.endsWith('/compat/zz-leftovers.test.js'));
const rest = files.filter((f) => !RETRIED.has(f) && !LAST.includes(f));
const main = rest.length ? runner(rest) : 0;
const last = LAST.length ? runner(LAST) : 0;
process.exit(status || main || last);
