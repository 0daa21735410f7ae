import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject, renderConfig, type Project } from '../../../src/compose/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

// Every ```yaml block with `services:` of the user's notes (/work/shared/seeds/*.txt), extracted
// as it is into test/fixtures/compose/seeds/<seed>-L<first line>/docker-compose.yml (build
// contexts are the fixture dirs; files they name — app.py, .env, secrets — added beside them).
// 001-L554 puts the two env snippets of 001's step 7 in one service; 002-L82 has 002-L128 (the
// healthcheck snippet for its `app`) as its override file. Blocks docker compose refuses too are
// in seeds-refused/ and fail here with compose's message.
const root = fileURLToPath(new URL('../../../../test/fixtures/compose/seeds/', import.meta.url));
// Blocks docker compose refuses too (cut excerpts, "NG/OK" pairs, an external secret).
const refused = fileURLToPath(new URL('../../../../test/fixtures/compose/seeds-refused/', import.meta.url));

const expected: Record<string, ((p: Project) => void) | RegExp> = {
  '001-L273': (p) => {
    assert.deepEqual(Object.keys(p.services), ['redis', 'web']);
    assert.equal(p.services.web!.build!.context, path.join(root, '001-L273'));
    assert.equal(p.services.web!.image, '001-l273-web');
    assert.deepEqual(p.services.web!.environment, { REDIS_HOST: 'redis' });
    assert.equal(p.services.web!.volumes[0]!.source, path.join(root, '001-L273/app.py'));
  },
  '001-L371': (p) => assert.equal(p.services.redis!.image, 'redis:7-alpine'),
  '001-L554': (p) => assert.deepEqual(p.services.web!.environment, { APP_NAME: 'demo-app', API_KEY: 'sk-test-123' }),
  '001-L606': (p) => assert.equal(p.services.web!.ports[0]!.published, '8000'),
  '001-L622': (p) => assert.equal(p.services.redis!.ports[0]!.target, 6379),
  '002-L82': (p) => {
    const app = p.services.app!;
    assert.deepEqual(app.healthcheck!.test, ['CMD', 'curl', '-f', 'http://localhost:8080/health']);
    assert.equal(app.healthcheck!.interval, 30e9);
    assert.equal(app.build!.dockerfile, 'Dockerfile');
    assert.deepEqual(Object.keys(app.networks), ['app-network']);
    assert.equal(p.networks['app-network']!.name, '002-l82_app-network');
    assert.equal(p.volumes['postgres-data']!.name, '002-l82_postgres-data');
    assert.equal(p.networks.default, undefined, 'no service uses the default network');
  },
  '002-L128': /^service "app" has neither an image nor a build context specified: invalid compose project$/,
  '004-L224': (p) => {
    assert.deepEqual(p.services.postgres!.healthcheck!.test, ['CMD-SHELL', 'pg_isready -U $POSTGRES_USER -d $POSTGRES_DB']);
    assert.equal(p.services.api!.healthcheck!.startInterval, 5e9);
    assert.equal(p.services.app!.dependsOn.postgres!.condition, 'service_healthy');
  },
  '004-L412': (p) => {
    assert.equal(p.services.api!.memLimit, 512 * 1024 ** 2);
    assert.equal(p.services.api!.memReservation, 256 * 1024 ** 2);
    assert.equal(p.services.worker!.cpus, 2);
    assert.equal(p.services.database!.oomScoreAdj, -500);
  },
  '004-L567': (p) => {
    assert.deepEqual(p.services.api!.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5', compress: 'true', tag: '{{.Name}}/{{.ID}}' } });
    assert.equal(p.services.worker!.logging!.driver, 'fluentd');
  },
  '004-L827': (p) => {
    assert.equal(p.services.api!.stopGracePeriod, 30);
    assert.equal(p.services.api!.stopSignal, 'SIGTERM');
  },
  // A cut excerpt: its `networks: [app-net]` is declared nowhere.
  '004-L1038': /^service "api" refers to undefined network app-net: invalid compose project$/,
  // docker compose `up` refuses it too ("unsupported external secret").
  '004-L1125': /^services\.api\.secrets\.1: unsupported external secret api_key$/,
  '004-L1178': (p) => {
    assert.equal(p.networks.backend!.internal, true);
    assert.deepEqual(Object.keys(p.services.api!.networks).sort(), ['backend', 'frontend']);
  },
  // "NG" and "OK" examples under two `services:` keys of one block.
  '004-L1273': /line 8: mapping key "services" already defined at line 2$/,
  '004-L1307': /line 9: mapping key "services" already defined at line 2$/,
  '004-L1358': /^service "api" has neither an image nor a build context specified: invalid compose project$/,
};

test('every compose block of the notes is in the table', () => {
  assert.deepEqual(
    [...readdirSync(root), ...readdirSync(refused)].sort(),
    Object.keys(expected).sort(),
  );
  for (const d of readdirSync(refused)) assert.ok(expected[d] instanceof RegExp, `${d} is in seeds-refused/ but expected to load`);
});

for (const [dir, want] of Object.entries(expected)) {
  test(`seed ${dir} ${want instanceof RegExp ? 'fails as docker compose does' : 'loads and renders'}`, async () => {
    const load = () => loadProject({ env: { HOME: '/root' }, cwd: path.join(want instanceof RegExp ? refused : root, dir) });
    if (want instanceof RegExp) {
      await assert.rejects(load, (err: unknown) => err instanceof InvalidArgument && want.test(err.message));
      return;
    }
    const { project } = await load();
    want(project);
    const yaml = renderConfig(project);
    assert.match(yaml, new RegExp(`^name: ${project.name}\nservices:\n`));
    assert.deepEqual(Object.keys(JSON.parse(renderConfig(project, 'json')).services), Object.keys(project.services).sort());
  });
}
