import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBody, dependencyLevels, loadProject } from '../../../src/compose/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

// dist/test/unit/compose/ -> the repository's test/fixtures/compose/seeds/
const SEEDS = fileURLToPath(new URL('../../../../test/fixtures/compose/seeds/', import.meta.url));

test('every compose file of the user\'s notes gives a create body for each service, in an order without cycles', async () => {
  const dirs = readdirSync(SEEDS);
  assert.ok(dirs.length > 0);
  let loaded = 0;
  for (const d of dirs) {
    // Fragments of the notes that are not whole files fail to load (the loader's tests say how).
    // Only a refusal counts: a loader that crashes (TypeError, RangeError …) on a seed fails here.
    const result = await loadProject({ cwd: join(SEEDS, d), env: { HOME: '/root' } }).catch((e: unknown) => {
      if (e instanceof InvalidArgument) return null;
      throw e;
    });
    if (!result) continue;
    loaded++;
    const { project } = result;
    const levels = dependencyLevels(project.services);
    assert.deepEqual(levels.flat().sort(), Object.keys(project.services).sort(), d);
    for (const s of Object.values(project.services)) {
      const { name, body } = createBody({ project, service: s, number: 1, imageId: 'sha256:0', hostEnv: {}, containerOf: (n) => `id-${n}` });
      assert.equal(name, s.containerName ?? `${project.name}-${s.name}-1`, d);
      assert.equal(body.Image, s.image, d);
      assert.equal((body.Labels as Record<string, string>)['com.docker.compose.service'], s.name, d);
    }
  }
  assert.ok(loaded >= dirs.length / 2, `only ${loaded} of ${dirs.length} seed files loaded`);
});
