/**
 * Runs last (scripts/run-tests.mjs runs it on its own after every other file): after the whole suite, nothing
 * of the test daemons' networking is left on the host — no default bridge `hk<tag>`, no veth
 * `vh…`, no nftables table `hako_<tag>` (issue #5). The machine's own default daemon (hako0,
 * table `hako`) is not a test's and is not looked at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const text = (cmd: string, args: string[]): string => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' });
  } catch {
    return '';
  }
};

test('the test suite leaves no bridge, veth or nftables table of hako behind', () => {
  const links = text('ip', ['-o', 'link', 'show']).split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0] ?? '')
    .filter((n) => /^hk[0-9a-f]{8}$/.test(n) || /^vh[0-9a-f]/.test(n));
  const tables = text('nft', ['list', 'tables']).split('\n').filter((l) => /\bhako_[0-9a-f]{8}$/.test(l.trim()));
  assert.deepEqual({ links, tables }, { links: [], tables: [] });
});
