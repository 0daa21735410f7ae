import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkVersion, compareVersions, matchRoute, splitVersion } from '../../../src/api/router.js';

test('matchRoute finds each kind of route with its path parameter', () => {
  const table: Array<[string, string, string, string] | [string, string, null]> = [
    ['GET', '/_ping', 'ping', ''],
    ['HEAD', '/_ping', 'pingHead', ''],
    ['GET', '/containers/json', 'containerList', ''],
    ['POST', '/containers/create', 'containerCreate', ''],
    ['GET', '/containers/abc123/json', 'containerInspect', 'abc123'],
    ['POST', '/containers/web-1/wait', 'containerWait', 'web-1'],
    ['DELETE', '/containers/web-1', 'containerDelete', 'web-1'],
    ['HEAD', '/containers/c/archive', 'archiveStat', 'c'],
    ['PUT', '/containers/c/archive', 'archivePut', 'c'],
    ['POST', '/containers/c/exec', 'execCreate', 'c'],
    ['POST', '/exec/e1/start', 'execStart', 'e1'],
    ['GET', '/exec/e1/json', 'execInspect', 'e1'],
    ['GET', '/images/json', 'imageList', ''],
    ['GET', '/images/get', 'imageGetAll', ''],
    ['GET', '/images/busybox/json', 'imageInspect', 'busybox'],
    ['GET', '/images/localhost:5000/a/b:tag/json', 'imageInspect', 'localhost:5000/a/b:tag'],
    ['GET', '/images/localhost:5000/a/b:tag/history', 'imageHistory', 'localhost:5000/a/b:tag'],
    ['POST', '/images/sha256:abcd/tag', 'imageTag', 'sha256:abcd'],
    ['GET', '/images/a/b/get', 'imageGet', 'a/b'],
    ['DELETE', '/images/localhost:5000/a/b:tag', 'imageDelete', 'localhost:5000/a/b:tag'],
    ['DELETE', '/images/foo/json', 'imageDelete', 'foo/json'],
    ['GET', '/containers/a%2Fb/json', 'containerInspect', 'a/b'],
    ['GET', '/nope', null],
    ['GET', '/containers/c/frobnicate', null],
    ['GET', '/containers//json', null],
    ['POST', '/containers/json', null],
    ['DELETE', '/images/', null],
  ];
  for (const [method, path, key, param] of table) {
    const match = matchRoute(method, path);
    if (key === null) assert.equal(match, null, `${method} ${path} should not match`);
    else assert.deepEqual(match, { key, param }, `${method} ${path}`);
  }
});

test('splitVersion strips /v1.xx prefixes and leaves other paths alone', () => {
  assert.deepEqual(splitVersion('/v1.47/containers/json'), { version: '1.47', path: '/containers/json' });
  assert.deepEqual(splitVersion('/v1.24/_ping'), { version: '1.24', path: '/_ping' });
  assert.deepEqual(splitVersion('/containers/json'), { version: null, path: '/containers/json' });
  assert.deepEqual(splitVersion('/volumes'), { version: null, path: '/volumes' });
});

test('checkVersion answers with docker messages outside 1.24..1.47', () => {
  assert.doesNotThrow(() => checkVersion('1.24'));
  assert.doesNotThrow(() => checkVersion('1.47'));
  assert.throws(() => checkVersion('1.50'), { status: 400, message: 'client version 1.50 is too new. Maximum supported API version is 1.47' });
  assert.throws(() => checkVersion('1.9'), { status: 400, message: /client version 1\.9 is too old\. Minimum supported API version is 1\.24/ });
});

test('compareVersions compares numerically, not as strings', () => {
  assert.equal(compareVersions('1.9', '1.24'), -1);
  assert.equal(compareVersions('1.47', '1.47'), 0);
  assert.equal(compareVersions('2.0', '1.47'), 1);
});
