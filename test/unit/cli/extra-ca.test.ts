import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restoreExtraCaCerts, HANDED_OVER } from '../../../src/cli/extra-ca.js';

const HAKO = fileURLToPath(new URL('../../../../bin/hako', import.meta.url));
const MISSING = join('/nonexistent', 'hako-test-ca.pem');

test('node itself reads NODE_EXTRA_CA_CERTS at start-up (and warns when it is missing)', () => {
  const r = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: MISSING }, encoding: 'utf8' });
  assert.match(r.stderr, /Ignoring extra certs/);
});

test('bin/hako starts without reading NODE_EXTRA_CA_CERTS', () => {
  const r = spawnSync(HAKO, ['--version'], { env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: MISSING }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^hako version /);
  assert.equal(r.stderr, '');
});

test('the handed-over value is put back for the processes the CLI starts', () => {
  const env: NodeJS.ProcessEnv = { [HANDED_OVER]: '/etc/ssl/corp.pem' };
  restoreExtraCaCerts(env);
  assert.deepEqual(env, { NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem' });
  const unset: NodeJS.ProcessEnv = { [HANDED_OVER]: '' };
  restoreExtraCaCerts(unset);
  assert.deepEqual(unset, {});
  const direct: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/a.pem' };
  restoreExtraCaCerts(direct);
  assert.deepEqual(direct, { NODE_EXTRA_CA_CERTS: '/a.pem' });
});
