import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boolParam, filtersParam, intParam } from '../../../src/api/query.js';

test('boolParam accepts 1/true/True and 0/false, and defaults when absent or empty', () => {
  const q = new URLSearchParams('a=1&b=true&c=True&d=0&e=false&f=');
  assert.equal(boolParam(q, 'a'), true);
  assert.equal(boolParam(q, 'b'), true);
  assert.equal(boolParam(q, 'c'), true);
  assert.equal(boolParam(q, 'd', true), false);
  assert.equal(boolParam(q, 'e', true), false);
  assert.equal(boolParam(q, 'f', true), true);
  assert.equal(boolParam(q, 'missing'), false);
});

test('boolParam refuses a value that is not a boolean, naming the parameter', () => {
  assert.throws(() => boolParam(new URLSearchParams('force=maybe'), 'force'), { status: 400, message: /"force".*"maybe"/ });
});

test('intParam refuses non-integers', () => {
  assert.equal(intParam(new URLSearchParams('t=10'), 't'), 10);
  assert.throws(() => intParam(new URLSearchParams('t=ten'), 't'), { status: 400, message: /"t"/ });
});

test('filtersParam decodes the list form and the old map form', () => {
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"status":["running","paused"],"label":["a=b"]}' })), { status: ['running', 'paused'], label: ['a=b'] });
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"dangling":{"true":true,"false":false}}' })), { dangling: ['true'] });
  assert.deepEqual(filtersParam(new URLSearchParams('')), {});
});

test('filtersParam names the problem in malformed filters', () => {
  assert.throws(() => filtersParam(new URLSearchParams({ filters: '{bad' })), { status: 400, message: /invalid filters/ });
  assert.throws(() => filtersParam(new URLSearchParams({ filters: '["a"]' })), { status: 400, message: /JSON object/ });
  assert.throws(() => filtersParam(new URLSearchParams({ filters: '{"label":"a=b"}' })), { status: 400, message: /filter "label"/ });
});
