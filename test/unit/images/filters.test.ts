import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import { checkFilterKeys, danglingFilter, filterTime, globToRegExp, labelsMatch, referenceMatches } from '../../../src/images/filters.js';

test('reference patterns match like Docker: name:tag first, then the bare name', () => {
  const p = [globToRegExp('busybox')];
  assert.ok(referenceMatches(p, 'busybox:latest'));
  assert.ok(!referenceMatches(p, 'me/busybox:latest'));
  assert.ok(referenceMatches([globToRegExp('*/busybox')], 'me/busybox:1'));
  assert.ok(referenceMatches([globToRegExp('busy*:1.?')], 'busybox:1.6'));
  assert.ok(!referenceMatches([globToRegExp('busy*:1.?')], 'busybox:1.36'));
  assert.ok(referenceMatches([globToRegExp('localhost:5000/*')], 'localhost:5000/app:v1'));
});

test('glob stars do not cross a slash', () => {
  assert.ok(!globToRegExp('*').test('me/app'));
  assert.ok(globToRegExp('[a-c]pp').test('bpp'));
  assert.ok(!globToRegExp('[^a-c]pp').test('bpp'));
});

test('unknown filter keys and bad dangling values are refused', () => {
  assert.throws(() => checkFilterKeys({ color: ['red'] }, ['dangling']), /invalid filter 'color'/);
  assert.throws(() => danglingFilter({ dangling: ['maybe'] }), InvalidArgument);
  assert.equal(danglingFilter({ dangling: ['1'] }), true);
  assert.equal(danglingFilter({ dangling: ['false'] }), false);
  assert.equal(danglingFilter({}), null);
});

test('labels match by key or key=value, and label! negates', () => {
  assert.ok(labelsMatch({ a: '1' }, ['a']));
  assert.ok(labelsMatch({ a: '1' }, ['a=1']));
  assert.ok(!labelsMatch({ a: '1' }, ['a=2']));
  assert.ok(!labelsMatch(undefined, ['a']));
  assert.ok(labelsMatch({ a: '1' }, ['b'], true));
  assert.ok(!labelsMatch({ a: '1' }, ['a'], true));
});

test('until takes Unix seconds, RFC 3339 and durations back from now', () => {
  const now = new Date('2024-01-02T00:00:00Z');
  assert.equal(filterTime('1700000000', now, 'until'), 1700000000000);
  assert.equal(filterTime('2024-01-01T00:00:00Z', now, 'until'), Date.parse('2024-01-01T00:00:00Z'));
  assert.equal(filterTime('24h', now, 'until'), Date.parse('2024-01-01T00:00:00Z'));
  assert.throws(() => filterTime('soon', now, 'until'), InvalidArgument);
});
