import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../../src/build/index.js';
import { belowPivot, copyFlags, excludeLines, parseChmod, splitPivot } from '../../../src/build/copy-select.js';
import { isGitUrl, parseChecksum, urlFileName } from '../../../src/build/add-url.js';

const ins = (line: string) => parseDockerfile(`FROM busybox\n${line}\n`).instructions[1] as NonNullable<ReturnType<typeof parseDockerfile>['instructions'][number]>;
const same = (s: string): string => s;

describe('COPY/ADD flags', () => {
  test('the parser keeps every --exclude, and --parents/--link with or without a value', () => {
    const i = ins('COPY --parents --link=false --exclude=*.md --exclude=**/*.log ./a ./b /d/');
    assert.deepEqual(i.flags, [{ name: 'parents', value: null }, { name: 'link', value: 'false' }, { name: 'exclude', value: '*.md' }, { name: 'exclude', value: '**/*.log' }]);
    assert.deepEqual(copyFlags(i, 'COPY', same), { parents: true, link: false, excludes: ['*.md', '**/*.log'] });
  });

  test('ADD --checksum is parsed as a sha256 digest; other algorithms and lengths are refused', () => {
    const hex = 'a'.repeat(64);
    assert.equal(copyFlags(ins(`ADD --checksum=sha256:${hex.toUpperCase()} https://x.test/f /f`), 'ADD', same).checksum, `sha256:${hex}`);
    assert.throws(() => parseChecksum('md5:abc'), /unsupported checksum algorithm "md5"/);
    assert.throws(() => parseChecksum('sha256:abc'), /64 hex digits/);
    assert.throws(() => parseChecksum('abc'), /use --checksum=sha256:/);
  });

  test('COPY --parents=maybe and ADD --keep-git-dir are refused', () => {
    assert.throws(() => copyFlags(ins('COPY --parents=maybe a /d/'), 'COPY', same), /--parents=maybe: use true or false/);
    assert.throws(() => copyFlags(ins('ADD --keep-git-dir=true https://x.test/r.git /src'), 'ADD', same), /git sources are not supported/);
  });

  test('COPY --bogus is an unknown flag with the line', () => {
    assert.throws(() => parseDockerfile('FROM busybox\nCOPY --bogus a /b\n'), /Dockerfile:2: COPY: unknown flag: --bogus/);
  });
});

describe('--parents pivots', () => {
  test('a ./ in the source keeps only the parents after it', () => {
    assert.deepEqual(splitPivot('./x/./y/*.txt'), { pivot: 'x', path: 'x/y/*.txt' });
    assert.deepEqual(splitPivot('./x/a.txt'), { pivot: '', path: 'x/a.txt' });
    assert.deepEqual(splitPivot('/app/./dist/x'), { pivot: 'app', path: 'app/dist/x' });
    assert.equal(belowPivot('x/y/b.txt', 'x'), 'y/b.txt');
    assert.equal(belowPivot('x/y/b.txt', ''), 'x/y/b.txt');
    assert.equal(belowPivot('x', 'x'), '');
    assert.throws(() => belowPivot('z/b.txt', 'x'), /not below its \.\/ pivot x/);
  });
});

describe('--exclude', () => {
  test('patterns apply from the context root and below each source directory', () => {
    assert.deepEqual(excludeLines(['*.md', '/b/*.txt'], ['docs', '.', 'hom*']), ['*.md', 'docs/*.md', 'hom*/*.md', 'b/*.txt', 'docs/b/*.txt', 'hom*/b/*.txt']);
    assert.throws(() => excludeLines(['!keep'], []), /exceptions/);
    assert.throws(() => excludeLines([''], []), /non-empty/);
  });
});

describe('--chmod', () => {
  test('octal modes', () => {
    assert.deepEqual(parseChmod('755'), { octal: 0o755 });
    assert.deepEqual(parseChmod('0640'), { octal: 0o640 });
  });

  test('symbolic modes as chmod(1): u=rwX,go=rX, +x, g=u, o-r, a=', () => {
    const f = (spec: string, mode: number, dir = false): string => ((parseChmod(spec) as { symbolic: (m: number, d: boolean) => number }).symbolic(mode, dir)).toString(8);
    assert.equal(f('u=rwX,go=rX', 0o600), '644');
    assert.equal(f('u=rwX,go=rX', 0o700), '755');
    assert.equal(f('u=rwX,go=rX', 0o700, true), '755');
    assert.equal(f('u=rwX,go=rX', 0o600, true), '755');
    assert.equal(f('+x', 0o644), '755');
    assert.equal(f('g=u', 0o640), '660');
    assert.equal(f('o-r', 0o644), '640');
    assert.equal(f('a=', 0o777), '0');
    assert.equal(f('u+s,+t', 0o755), '5755');
  });

  test('a bad mode names itself and the forms', () => {
    assert.throws(() => parseChmod('a+q'), /invalid chmod parameter "a\+q": use an octal mode such as 0755 or a symbolic one/);
    assert.throws(() => parseChmod('999'), /invalid chmod parameter "999"/);
  });
});

describe('ADD URLs', () => {
  test('the file name comes from the URL path, else Content-Disposition', () => {
    assert.equal(urlFileName('http://h.test/a/b/tool.tar.gz?x=1'), 'tool.tar.gz');
    assert.equal(urlFileName('http://h.test/a/some%20file'), 'some file');
    assert.equal(urlFileName('http://h.test/', 'attachment; filename="r.bin"'), 'r.bin');
    assert.equal(urlFileName('http://h.test'), '');
  });

  test('git URLs are recognised', () => {
    for (const u of ['git://h.test/r', 'git@github.com:moby/moby.git', 'https://github.com/moby/buildkit.git#v1', 'https://github.com/moby/buildkit', 'ssh://h.test/r']) assert.ok(isGitUrl(u), u);
    for (const u of ['https://h.test/file.txt', 'http://127.0.0.1:8080/x.git.txt', 'a/b.git']) assert.ok(!isGitUrl(u), u);
  });
});
