/**
 * What several commands share (src/cli/containers.ts, render.ts, flag-values.ts): docker's
 * "for each name" loops and their error reports, inspect of several names, list-typed flag values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Cli } from '../../../src/cli/cli.js';
import { errorsOfEach, forEachName } from '../../../src/cli/containers.js';
import { isNotFound } from '../../../src/cli/errors.js';
import { printInspected } from '../../../src/cli/render.js';
import { commaList, kvMap } from '../../../src/cli/flag-values.js';
import { ClientError } from '../../../src/client/index.js';

function sink(): Writable & { text: string } {
  const w = new Writable({ write(c, _e, cb) { w.text += c.toString(); cb(); } }) as Writable & { text: string };
  w.text = '';
  return w;
}

function testCli(): { cli: Cli; out: Writable & { text: string }; err: Writable & { text: string } } {
  const out = sink();
  const err = sink();
  return { cli: new Cli({ host: 'unix:///nonexistent.sock', hostExplicit: true, commandPath: 'hako', stdout: out, stderr: err }), out, err };
}

/** A daemon that knows `a` and `c`, answers 404 for others and 409 for `busy`. */
async function daemonOp(name: string): Promise<void> {
  if (name === 'busy') throw new ClientError(409, `${name} is in use`);
  if (name !== 'a' && name !== 'c') throw new ClientError(404, `no such object: ${name}`);
}

test('forEachName prints each name done and each error at once, in order, and answers 1 when one failed', async () => {
  const { cli, out, err } = testCli();
  assert.equal(await forEachName(cli, ['a', 'b', 'c'], daemonOp), 1);
  assert.equal(out.text, 'a\nc\n');
  assert.equal(err.text, 'Error response from daemon: no such object: b\n');
  assert.equal(await forEachName(testCli().cli, ['a', 'c'], daemonOp), 0);
});

test('forEachName: errors `ignore` accepts print nothing and fail nothing; `print` words (or hides) the success line', async () => {
  const { cli, out, err } = testCli();
  const code = await forEachName(cli, ['a', 'b', 'busy', 'c'], daemonOp, { ignore: isNotFound, print: (n) => (n === 'c' ? null : `done ${n}`) });
  assert.equal(code, 1);
  assert.equal(out.text, 'done a\n');
  assert.equal(err.text, 'Error response from daemon: busy is in use\n');
});

test('errorsOfEach runs every name and answers the error lines, without those `ignore` accepts', async () => {
  const seen: string[] = [];
  const op = async (n: string) => { seen.push(n); await daemonOp(n); };
  assert.deepEqual(await errorsOfEach(['b', 'a', 'busy'], op), ['Error response from daemon: no such object: b', 'Error response from daemon: busy is in use']);
  assert.deepEqual(seen, ['b', 'a', 'busy']);
  assert.deepEqual(await errorsOfEach(['b', 'a'], daemonOp, isNotFound), []);
});

test('printInspected prints what it found, then fails naming each 404 (resolved undefined or rejected) in its own words', async () => {
  const out = sink();
  const fetch = async (ref: string) => {
    if (ref === 'gone') return undefined;
    await daemonOp(ref);
    return { Name: ref };
  };
  await assert.rejects(
    printInspected(out, ['a', 'gone', 'b'], '{{.Name}}', fetch, (ref, notFound) => (notFound ? `daemon: ${(notFound as Error).message}` : `Error: No such thing: ${ref}`)),
    (e: Error & { status?: number; text?: string }) => e.name === 'StatusError' && e.status === 1 && e.text === 'Error: No such thing: gone\ndaemon: no such object: b',
  );
  assert.equal(out.text, 'a\n');
  // Other errors are not "not found": they propagate.
  await assert.rejects(printInspected(sink(), ['busy'], '', fetch, () => 'x'), /busy is in use/);
});

test('kvMap keeps everything after the first = and maps a bare key to ""; commaList splits, trims and drops empties', () => {
  assert.deepEqual(kvMap(['a=1', 'b=x=y', 'bare', 'e=']), { a: '1', b: 'x=y', bare: '', e: '' });
  assert.deepEqual(commaList(['a, b', '', 'c,,d ']), ['a', 'b', 'c', 'd']);
});
