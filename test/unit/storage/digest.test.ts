import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainIdOf, digestHex, isDigest, nextChainId, sha256Of } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

const A = 'sha256:' + 'a'.repeat(64);
const B = 'sha256:' + 'b'.repeat(64);
const C = 'sha256:' + 'c'.repeat(64);

test('digestHex returns the hex of a well-formed sha256 digest', () => {
  assert.equal(digestHex(A), 'a'.repeat(64));
});

test('digestHex refuses digests that could escape a path or are not sha256', () => {
  for (const bad of ['sha256:../../etc/passwd', 'sha256:' + 'A'.repeat(64), 'sha512:' + 'a'.repeat(64),
    'sha256:' + 'a'.repeat(63), 'sha256:' + 'a'.repeat(65), 'a'.repeat(64), '', 'sha256:' + 'a'.repeat(63) + '/']) {
    assert.throws(() => digestHex(bad), InvalidArgument, bad);
    assert.equal(isDigest(bad), false);
  }
});

test('sha256Of hashes bytes into a digest', () => {
  assert.equal(sha256Of(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('the chain ID of a base layer is its diff ID', () => {
  assert.equal(nextChainId(null, A), A);
  assert.equal(chainIdOf([A]), A);
});

test('the chain ID of a stack follows the OCI formula sha256(parent + " " + diffID)', () => {
  const ab = sha256Of(`${A} ${B}`);
  assert.equal(nextChainId(A, B), ab);
  assert.equal(chainIdOf([A, B, C]), sha256Of(`${ab} ${C}`));
});

test('chainIdOf refuses an empty layer list and malformed diff IDs', () => {
  assert.throws(() => chainIdOf([]), InvalidArgument);
  assert.throws(() => chainIdOf([A, 'sha256:nope']), InvalidArgument);
});
