import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import {
  familiarString, familiarTagged, fullString, isFullImageId, isImageIdPrefix, parseReference, shortId, withDefaultTag,
} from '../../../src/images/index.js';

const HEX = 'a'.repeat(64);

function refuses(input: string, message: string | RegExp): void {
  assert.throws(() => parseReference(input), (err: unknown) => {
    assert.ok(err instanceof InvalidArgument, `expected InvalidArgument for ${input}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('a bare name lives under docker.io/library with the latest tag', () => {
  const ref = withDefaultTag(parseReference('nginx'));
  assert.deepEqual(ref, { domain: 'docker.io', path: 'library/nginx', tag: 'latest', digest: null });
  assert.equal(fullString(ref), 'docker.io/library/nginx:latest');
  assert.equal(familiarString(ref), 'nginx:latest');
});

test('a two-component name stays on docker.io without library/', () => {
  const ref = parseReference('me/app:1.2');
  assert.equal(fullString(ref), 'docker.io/me/app:1.2');
  assert.equal(familiarString(ref), 'me/app:1.2');
});

test('the fully written docker.io forms normalise back to the familiar one', () => {
  assert.equal(familiarTagged('docker.io/library/busybox'), 'busybox:latest');
  assert.equal(familiarTagged('index.docker.io/library/busybox:1'), 'busybox:1');
  assert.equal(familiarTagged('library/busybox'), 'busybox:latest');
});

test('a first component with a dot, a port or localhost is a registry', () => {
  assert.deepEqual(parseReference('localhost/app'), { domain: 'localhost', path: 'app', tag: null, digest: null });
  assert.deepEqual(parseReference('localhost:5000/team/app:v2'), { domain: 'localhost:5000', path: 'team/app', tag: 'v2', digest: null });
  assert.deepEqual(parseReference('registry.example.com/app'), { domain: 'registry.example.com', path: 'app', tag: null, digest: null });
  assert.deepEqual(parseReference('myhost:443/app'), { domain: 'myhost:443', path: 'app', tag: null, digest: null });
  assert.equal(familiarTagged('localhost:5000/app'), 'localhost:5000/app:latest');
});

test('a first component without dot, port or localhost is part of the path', () => {
  assert.deepEqual(parseReference('team/app'), { domain: 'docker.io', path: 'team/app', tag: null, digest: null });
});

test('an upper-case first component is taken as a registry, as Docker does', () => {
  assert.equal(parseReference('Registry/app').domain, 'Registry');
});

test('a digest is parsed, with or without a tag', () => {
  const d = `sha256:${HEX}`;
  assert.deepEqual(parseReference(`busybox@${d}`), { domain: 'docker.io', path: 'library/busybox', tag: null, digest: d });
  assert.deepEqual(parseReference(`busybox:1@${d}`), { domain: 'docker.io', path: 'library/busybox', tag: '1', digest: d });
  assert.equal(familiarString(parseReference(`busybox@${d}`)), `busybox@${d}`);
});

test('an upper-case repository is refused with Docker\'s message', () => {
  refuses('Nginx', 'invalid reference format: repository name (library/Nginx) must be lowercase');
  refuses('me/App:1', 'invalid reference format: repository name (me/App) must be lowercase');
});

test('malformed references are refused with "invalid reference format"', () => {
  for (const bad of ['', 'nginx:', ':tag', 'nginx::1', '-nginx', 'nginx-', 'a//b', 'a/', 'nginx:a b', 'nginx:-x',
    'nginx@sha256:abc', `nginx:${'x'.repeat(129)}`, 'a..b/c', 'foo bar']) {
    refuses(bad, /^invalid reference format/);
  }
});

test('path separators follow the grammar: ., _, __ and runs of -', () => {
  for (const ok of ['a.b', 'a_b', 'a__b', 'a---b', 'a-b/c.d_e']) assert.doesNotThrow(() => parseReference(ok), ok);
  for (const bad of ['a___b', 'a._b', 'a..b', '_a', 'a.']) refuses(bad, /^invalid reference format/);
});

test('a tag may be up to 128 characters', () => {
  assert.equal(parseReference(`nginx:${'x'.repeat(128)}`).tag, 'x'.repeat(128));
});

test('a name longer than 255 characters is refused', () => {
  refuses(`${'a'.repeat(250)}/b`, 'repository name must not be more than 255 characters');
});

test('a digest of the wrong length is refused with the digest message', () => {
  refuses(`busybox@sha256:${'a'.repeat(40)}`, 'invalid checksum digest length');
});

test('a 64-hex name is refused since it would read as an image id', () => {
  refuses(HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`);
});

test('a tag reference refuses a digest', () => {
  assert.throws(() => familiarTagged(`busybox@sha256:${HEX}`), InvalidArgument);
});

test('image ids are recognised in full and abbreviated forms', () => {
  assert.ok(isFullImageId(`sha256:${HEX}`));
  assert.ok(isFullImageId(HEX));
  assert.ok(!isFullImageId('abc123'));
  assert.ok(!isFullImageId(`sha256:${HEX.toUpperCase()}`));
  assert.ok(isImageIdPrefix('abc123'));
  assert.ok(isImageIdPrefix('sha256:abc'));
  assert.ok(!isImageIdPrefix('busybox'));
  assert.ok(!isImageIdPrefix(''));
  assert.equal(shortId(`sha256:${'0123456789ab'}${'c'.repeat(52)}`), '0123456789ab');
});
