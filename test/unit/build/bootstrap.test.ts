import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapImage, hostDebianMirror } from '../../../src/build/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

function aptDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hako-apt-'));
  mkdirSync(join(dir, 'sources.list.d'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('hostDebianMirror', () => {
  it('takes the Debian archive from a deb822 .sources file, not the security archive', async () => {
    const dir = aptDir({
      'sources.list.d/debian.sources': [
        'Types: deb', 'URIs: http://deb.debian.org/debian-security', 'Suites: bookworm-security', 'Components: main', '',
        'Types: deb', '# a comment', 'URIs: http://mirror.example/debian', 'Suites: bookworm', 'Components: main', '',
      ].join('\n'),
    });
    try {
      assert.equal(await hostDebianMirror(dir), 'http://mirror.example/debian');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('reads one-line sources.list entries with options, skips disabled stanzas, and falls back to deb.debian.org', async () => {
    const one = aptDir({ 'sources.list': '# deb http://old.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] https://m.example/debian/ bookworm main\n' });
    const disabled = aptDir({ 'sources.list.d/x.sources': 'Types: deb\nURIs: http://off.example/debian\nEnabled: no\n' });
    const none = aptDir({});
    try {
      assert.equal(await hostDebianMirror(one), 'https://m.example/debian/');
      assert.equal(await hostDebianMirror(disabled), 'http://deb.debian.org/debian');
      assert.equal(await hostDebianMirror(none), 'http://deb.debian.org/debian');
    } finally {
      for (const d of [one, disabled, none]) rmSync(d, { recursive: true });
    }
  });
});

describe('bootstrapImage refuses bad input before anything is downloaded', () => {
  const deps = {
    tmpDir: '/nonexistent-tmp',
    images: { commit: () => { throw new Error('must not commit'); } },
  };
  const cases: Array<[string, Parameters<typeof bootstrapImage>[1], RegExp]> = [
    ['a suite with a slash', { repo: 'debian', suite: 'book/worm' }, /invalid suite "book\/worm"/],
    ['an unknown variant', { repo: 'debian', variant: 'fat' }, /invalid variant "fat": use minbase or buildd/],
    ['a bad package name', { repo: 'debian', include: ['curl,Bad_Pkg'] }, /invalid package name "Bad_Pkg" in --include/],
    ['a bad image name', { repo: 'Debian' }, /invalid image name "Debian:bookworm"/],
    ['a mirror that is not a URL', { repo: 'debian', mirror: 'ftp.example/debian' }, /mirror "ftp.example\/debian" is not an http\(s\) URL/],
  ];
  for (const [what, opts, message] of cases) {
    it(`refuses ${what}`, async () => {
      const lines: string[] = [];
      await assert.rejects(bootstrapImage(deps, opts, (l) => lines.push(l)), (err: unknown) => {
        assert.ok(err instanceof InvalidArgument, String(err));
        assert.match((err as Error).message, message);
        return true;
      });
      assert.deepEqual(lines, []);
    });
  }
});
