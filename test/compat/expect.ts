/**
 * Assertions on what a docker CLI user sees: an exit code, stdout and stderr. Failure messages
 * carry the whole result and the daemon's log tail, so a red test says what the engine did.
 */
import assert from 'node:assert/strict';
import type { Hakod, RunResult } from '../support/hakod.js';

function show(r: RunResult, d?: Hakod): string {
  return `exit ${r.code}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}` +
    (d ? `\n--- hakod log tail ---\n${d.logTail(15)}` : '');
}

/** Asserts exit 0 and returns stdout. */
export function ok(r: RunResult, d?: Hakod): string {
  assert.equal(r.code, 0, `expected exit 0\n${show(r, d)}`);
  return r.stdout;
}

/** Asserts the exit code (and, if given, that stderr matches). */
export function exits(r: RunResult, code: number, stderr?: RegExp, d?: Hakod): void {
  assert.equal(r.code, code, `expected exit ${code}\n${show(r, d)}`);
  if (stderr) assert.match(r.stderr, stderr, `stderr does not match ${stderr}\n${show(r, d)}`);
}

/** Asserts a non-zero exit whose stderr matches. */
export function fails(r: RunResult, stderr: RegExp, d?: Hakod): void {
  assert.notEqual(r.code, 0, `expected a failure\n${show(r, d)}`);
  assert.match(r.stderr, stderr, `stderr does not match ${stderr}\n${show(r, d)}`);
}

/** Polls `probe` until it returns a value (not undefined) or the time is up. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
