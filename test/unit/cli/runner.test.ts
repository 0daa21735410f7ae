import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runCli, checkArgs } from '../../../src/cli/runner.js';

function sink(): Writable & { text: string } {
  const w = new Writable({ write(c, _e, cb) { (w as unknown as { text: string }).text += c.toString(); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function hako(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await runCli(argv, { stdout: out, stderr: err, env: { HAKO_HOST: 'unix:///nonexistent/hako-test.sock' } });
  return { code, out: out.text, err: err.text };
}

test('an unknown flag prints the usage line and exits 125', async () => {
  const r = await hako('run', '--foo', 'busybox');
  assert.equal(r.code, 125);
  assert.equal(r.err, "unknown flag: --foo\n\nUsage:  hako run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'hako run --help' for more information\n");
});

test('an unknown shorthand is named with its argument', async () => {
  const r = await hako('ps', '-x');
  assert.equal(r.code, 125);
  assert.match(r.err, /^unknown shorthand flag: 'x' in -x\n\nUsage: {2}hako ps \[OPTIONS\]\n/);
});

test('run without an image says it needs an argument, as docker 28 does (exit 1)', async () => {
  const r = await hako('run');
  assert.equal(r.code, 1);
  assert.equal(r.err, "hako: 'hako run' requires at least 1 argument\n\nUsage:  hako run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'hako run --help' for more information\n");
});

test('the container group finds its sub-commands and names them in messages', async () => {
  const r = await hako('container', 'ls', 'extra');
  assert.equal(r.code, 1);
  assert.match(r.err, /'hako container ls' accepts no arguments/);
});

test('--help prints the usage, aliases and options', async () => {
  const r = await hako('ps', '--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: {2}hako ps \[OPTIONS\]\n\nList containers\n\nAliases:\n {2}hako container ls/);
  assert.match(r.out, /-q, --quiet\s+Only display container IDs/);
});

test('an explicit host that does not answer gives docker\'s message and exit 1', async () => {
  const r = await hako('ps');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Cannot connect to the hako daemon at unix:///nonexistent/hako-test.sock. Is the hako daemon running?\n');
});

test('run maps an unreachable daemon to 125 with the --help hint', async () => {
  const r = await hako('run', 'busybox');
  assert.equal(r.code, 125);
  assert.match(r.err, /^hako: Cannot connect to the hako daemon at .*\n\nRun 'hako run --help' for more information\n$/);
});

test('rename with one argument requires exactly two', () => {
  const msg = checkArgs('hako rename', { use: 'CONTAINER NEW_NAME', short: '', flags: [], args: { min: 2, max: 2 } }, 1);
  assert.equal(msg, "hako: 'hako rename' requires 2 arguments\n\nUsage:  hako rename CONTAINER NEW_NAME\n\nRun 'hako rename --help' for more information\n");
});

test('unknown commands are reported', async () => {
  const r = await hako('frobnicate');
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown command: hako frobnicate/);
});

test('a malformed filter is a flag error with the usage line, exit 125', async () => {
  const r = await hako('ps', '--filter', 'foo');
  assert.equal(r.code, 125);
  assert.equal(r.err, 'invalid argument "foo" for "-f, --filter" flag: bad format of filter (expected name=value)\n\nUsage:  hako ps [OPTIONS]\n\nRun \'hako ps --help\' for more information\n');
});

test('an environment variable without a name is refused while parsing', async () => {
  const r = await hako('run', '-e', '=x', 'busybox');
  assert.equal(r.code, 125);
  assert.match(r.err, /^invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x\n/);
});
