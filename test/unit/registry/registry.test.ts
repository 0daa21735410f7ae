import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  bcryptVerify, isInsecure, parseChallenge, parseManifest, selectManifest, parsePlatform, progressBar, humanBytes, registryHost,
} from '../../../src/registry/index.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe('registry client pieces', () => {
  it('parses a Bearer challenge with quoted, comma-separated parameters', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
      scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
    assert.equal(parseChallenge(undefined), null);
  });

  it('allows plain http only for loopback and insecure-registries (host, host:port or CIDR)', () => {
    assert.ok(isInsecure('localhost:5000', []));
    assert.ok(isInsecure('127.8.0.1:80', []));
    assert.ok(!isInsecure('registry.example.com', []));
    assert.ok(isInsecure('registry.example.com:5000', ['registry.example.com:5000']));
    assert.ok(isInsecure('10.1.2.3:5000', ['10.0.0.0/8']));
    assert.ok(!isInsecure('11.1.2.3:5000', ['10.0.0.0/8']));
  });

  it('maps login server addresses to registry hosts', () => {
    assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryHost('http://localhost:5000'), 'localhost:5000');
  });

  it('selects linux/amd64 from an index, skipping attestations, and names what there is when nothing fits', () => {
    const index = parseManifest(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('a'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('b'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('c'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    })), '', 'x');
    assert.equal(index.kind, 'index');
    if (index.kind !== 'index') return;
    assert.equal(selectManifest(index, parsePlatform('linux/amd64'), 'x').digest, D('b'));
    assert.equal(selectManifest(index, parsePlatform('linux/arm64'), 'x').digest, D('a'));
    assert.equal(selectManifest(index, parsePlatform('linux/aarch64/v8'), 'x').digest, D('a'));
    assert.throws(() => selectManifest(index, parsePlatform('linux/ppc64le'), 'x'), /no matching manifest for linux\/ppc64le .*has: linux\/arm64\/v8, linux\/amd64, unknown\/unknown/);
  });

  it('refuses schema 1 manifests and descriptors without a sha256 digest', () => {
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}'), '', 'old'), /schema 1/);
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: 'md5:x', size: 1 }, layers: [] })), '', 'm'), /not a sha256 digest/);
    assert.throws(() => parseManifest(Buffer.from('nope'), '', 'm'), /not valid JSON/);
  });

  it('draws docker-style bars and sizes', () => {
    assert.equal(progressBar(50, 100), `[${'='.repeat(25)}>${' '.repeat(24)}]      50B/100B`);
    assert.equal(humanBytes(1_234_567), '1.235MB');
  });
});

describe('bcrypt for htpasswd', () => {
  it('verifies what htpasswd -B wrote and rejects a wrong password', () => {
    const line = execFileSync('htpasswd', ['-nbB', '-C', '6', 'user', 'pässword:with colon']).toString().trim();
    const hash = line.slice(line.indexOf(':') + 1);
    assert.ok(bcryptVerify('pässword:with colon', hash));
    assert.ok(!bcryptVerify('pässword:with colo', hash));
  });
  it('matches a published OpenBSD test vector', () => {
    // From OpenBSD's regress/lib/libc/crypt (and jBCrypt's test suite).
    assert.ok(bcryptVerify('abc', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'));
    assert.ok(bcryptVerify('', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'));
  });
});
