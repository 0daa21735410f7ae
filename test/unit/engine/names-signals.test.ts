import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateContainerName, generateContainerName } from '../../../src/engine/containers/names.js';
import { parseSignal } from '../../../src/engine/signals.js';
import { matchIdPrefix, newId } from '../../../src/engine/ids.js';
import { parseDetachKeys } from '../../../src/engine/containers/attach-session.js';

test('container names follow docker rules', () => {
  assert.equal(validateContainerName('/web-1'), 'web-1');
  assert.equal(validateContainerName('a.b_c'), 'a.b_c');
  assert.throws(() => validateContainerName('-x'), /Invalid container name \(-x\)/);
  assert.throws(() => validateContainerName('a'), /Invalid container name/);
  assert.throws(() => validateContainerName('a/b'), /Invalid container name/);
});

test('generated names avoid taken ones', () => {
  const taken = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const n = generateContainerName((x) => taken.has(x));
    assert.match(n, /^[a-z]+_[a-z]+\d*$/);
    assert.ok(!taken.has(n));
    taken.add(n);
  }
});

test('signals parse as docker accepts them', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.throws(() => parseSignal('SIGNOPE'), /Invalid signal: SIGNOPE/);
  assert.throws(() => parseSignal('99'), /Invalid signal/);
});

test('id prefixes resolve uniquely or fail', () => {
  const a = newId();
  const b = newId();
  assert.equal(a.length, 64);
  assert.equal(matchIdPrefix([a, b], a.slice(0, 8), 'container'), a);
  assert.equal(matchIdPrefix(['abc1', 'abd2'], 'abc', 'container'), 'abc1');
  assert.throws(() => matchIdPrefix(['abc1', 'abc2'], 'ab', 'container'), /multiple IDs found with provided prefix: ab/);
  assert.equal(matchIdPrefix([a], 'zz', 'container'), undefined);
});

test('detach keys parse docker syntax', () => {
  assert.deepEqual([...(parseDetachKeys(undefined) ?? [])], [0x10, 0x11]);
  assert.deepEqual([...(parseDetachKeys('ctrl-a,x') ?? [])], [1, 0x78]);
  assert.equal(parseDetachKeys(''), null);
  assert.throws(() => parseDetachKeys('ctrl-aa'), /Invalid detach keys/);
});
