import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogOpts, logFiles } from '../../../src/logs/index.js';
import { InvalidArgument, NotImplemented } from '../../../src/errdefs/index.js';

test('json-file is the default driver, never rotating, with one file', () => {
  assert.deepEqual(parseLogOpts(undefined, {}), { driver: 'json-file', maxSize: -1, maxFiles: 1, warnings: [] });
  assert.equal(parseLogOpts('', {}).driver, 'json-file');
});

test('max-size uses docker json-file decimal units and max-file a count', () => {
  const c = parseLogOpts('json-file', { 'max-size': '10m', 'max-file': '3' });
  assert.equal(c.maxSize, 10_000_000);
  assert.equal(c.maxFiles, 3);
  assert.equal(parseLogOpts('json-file', { 'max-size': '512k' }).maxSize, 512_000);
  assert.equal(parseLogOpts('json-file', { 'max-size': '1g' }).maxSize, 1_000_000_000);
  assert.equal(parseLogOpts('json-file', { 'max-size': '1.5MB' }).maxSize, 1_500_000);
  assert.equal(parseLogOpts('json-file', { 'max-size': '2048' }).maxSize, 2048);
});

test('bad max-size and max-file values are refused with docker-like messages', () => {
  assert.throws(() => parseLogOpts('json-file', { 'max-size': 'abc' }), (e: unknown) => e instanceof InvalidArgument && /invalid value for max-size "abc": invalid size: 'abc'/.test(e.message));
  assert.throws(() => parseLogOpts('json-file', { 'max-size': '10x' }), /invalid suffix: 'x'/);
  assert.throws(() => parseLogOpts('json-file', { 'max-size': '0' }), /max-size must be a positive number/);
  assert.throws(() => parseLogOpts('json-file', { 'max-file': 'two' }), (e: unknown) => e instanceof InvalidArgument && /invalid value for max-file "two"/.test(e.message));
  assert.throws(() => parseLogOpts('json-file', { 'max-file': '0' }), /max-file cannot be less than 1/);
});

test('an unknown option or driver is an InvalidArgument naming it', () => {
  assert.throws(() => parseLogOpts('json-file', { 'max-sise': '1m' }), (e: unknown) => e instanceof InvalidArgument && e.message === "unknown log opt 'max-sise' for json-file log driver");
  assert.throws(() => parseLogOpts('jsonfile', {}), (e: unknown) => e instanceof InvalidArgument && e.message === "logger: no log driver named 'jsonfile' is registered");
});

test('docker drivers hako lacks are NotImplemented, not unknown', () => {
  assert.throws(() => parseLogOpts('journald', {}), (e: unknown) => e instanceof NotImplemented && /journald/.test(e.message));
});

test('the none driver accepts anything and keeps no logs', () => {
  assert.equal(parseLogOpts('none', { whatever: '1' }).driver, 'none');
});

test('common docker options are accepted with a warning, compress is refused honestly', () => {
  assert.equal(parseLogOpts('json-file', { labels: 'a,b', tag: '{{.Name}}' }).warnings.length, 2);
  assert.throws(() => parseLogOpts('json-file', { compress: 'true' }), /compress cannot be true when max-file is less than 2/);
  assert.throws(() => parseLogOpts('json-file', { compress: 'true', 'max-size': '1m', 'max-file': '2' }), NotImplemented);
  assert.equal(parseLogOpts('json-file', { compress: 'false' }).driver, 'json-file');
  assert.throws(() => parseLogOpts('json-file', { mode: 'fast' }), /logging mode not supported: fast/);
});

test('logFiles lists rotated files oldest first', () => {
  assert.deepEqual(logFiles('/x/ctr.log', 3), { current: '/x/ctr.log', rotated: ['/x/ctr.log.2', '/x/ctr.log.1'] });
  assert.deepEqual(logFiles('/x/ctr.log', 1), { current: '/x/ctr.log', rotated: [] });
});
