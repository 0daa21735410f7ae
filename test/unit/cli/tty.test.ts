import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDetachKeys, DetachScanner } from '../../../src/cli/tty.js';

test('detach keys parse ctrl- names to control bytes', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('a,ctrl-@,ctrl-[')], [0x61, 0, 27]);
  assert.throws(() => parseDetachKeys('ctrl-long'), /Unknown character/);
});

test('the scanner detaches on the sequence, even split across reads', () => {
  const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.push(Buffer.from('ab\x10')), { forward: Buffer.from('ab'), detached: false });
  assert.deepEqual(s.push(Buffer.from('\x11')), { forward: Buffer.from(''), detached: true });
});

test('a partial sequence that does not complete is forwarded', () => {
  const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(s.push(Buffer.from('\x10x')), { forward: Buffer.from('\x10x'), detached: false });
  assert.deepEqual(s.push(Buffer.from('\x10\x10\x11')).detached, true);
});
