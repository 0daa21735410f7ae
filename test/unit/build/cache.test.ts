import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDb } from '../../../src/storage/index.js';
import { BUILDER_CACHE_VERSION, BuildCache, stepKey } from '../../../src/build/cache.js';

const ENV_STEP = { parent: 'sha256:' + 'a'.repeat(64), instruction: '/bin/sh -c #(nop)  ENV A=1', args: [['V', 'x']] as Array<[string, string]> };

function withCache(fn: (cache: BuildCache) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hako-build-cache-'));
  const db = openMetadataDb(join(dir, 'hako.db'));
  try {
    fn(new BuildCache(db));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a step cached with the previous builder cache version is a miss, and cached again under the current one', () => {
  withCache((cache) => {
    cache.put(stepKey(ENV_STEP, BUILDER_CACHE_VERSION - 1), 'sha256:stale');
    assert.equal(cache.get(stepKey(ENV_STEP)), null);
    cache.put(stepKey(ENV_STEP), 'sha256:fresh');
    assert.equal(cache.get(stepKey(ENV_STEP)), 'sha256:fresh');
    assert.equal(cache.get(stepKey(ENV_STEP, BUILDER_CACHE_VERSION - 1)), 'sha256:stale', 'the old entry stays until builder prune');
  });
});

test('entries hako wrote before cache versioning (version 1) are misses', () => {
  // The key as hako computed it before the version existed: sha256 of [parent, instruction, sorted args, content].
  const legacy = createHash('sha256').update(JSON.stringify([ENV_STEP.parent, ENV_STEP.instruction, [...ENV_STEP.args].sort(), ''])).digest('hex');
  assert.equal(stepKey(ENV_STEP, 1), legacy);
  assert.ok(BUILDER_CACHE_VERSION > 1);
  withCache((cache) => {
    cache.put(legacy, 'sha256:stale');
    assert.equal(cache.get(stepKey(ENV_STEP)), null);
  });
});

test('a step key still depends on every input under the same version', () => {
  const base = stepKey(ENV_STEP);
  assert.equal(stepKey({ ...ENV_STEP, args: [...ENV_STEP.args] }), base, 'the same inputs give the same key');
  assert.notEqual(stepKey({ ...ENV_STEP, parent: 'sha256:' + 'b'.repeat(64) }), base);
  assert.notEqual(stepKey({ ...ENV_STEP, instruction: '/bin/sh -c #(nop)  ENV A=2' }), base);
  assert.notEqual(stepKey({ ...ENV_STEP, args: [['V', 'y']] }), base);
  assert.notEqual(stepKey({ ...ENV_STEP, content: 'c' }), base);
});
