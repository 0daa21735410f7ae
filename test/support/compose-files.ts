/**
 * Compose files in temp dirs for loader tests: `tree` writes them (removed after the test file),
 * `load` runs the loader on one with a fixed environment, `loadError` expects its refusal.
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadProject, type LoadOptions } from '../../src/compose/index.js';
import { InvalidArgument } from '../../src/errdefs/index.js';

export function composeFileTrees(defaultName: string) {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A temp dir `<tmp>/<name>` holding `files` (path → content; a trailing `/` makes a dir). */
  function tree(files: Record<string, string>, name = defaultName): string {
    const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'hako-compose-')));
    dirs.push(base);
    const root = path.join(base, name);
    mkdirSync(root, { recursive: true });
    for (const [p, content] of Object.entries(files)) {
      const full = path.join(root, p);
      if (p.endsWith('/')) {
        mkdirSync(full, { recursive: true });
        continue;
      }
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    return root;
  }

  function load(cwd: string, opts: Partial<LoadOptions> = {}): ReturnType<typeof loadProject> {
    return loadProject({ env: { HOME: '/home/u' }, cwd, ...opts });
  }

  async function loadError(cwd: string, opts: Partial<LoadOptions> = {}): Promise<string> {
    try {
      await load(cwd, opts);
    } catch (err) {
      assert.ok(err instanceof InvalidArgument, `expected InvalidArgument, got ${String(err)}`);
      return err.message;
    }
    assert.fail('the load succeeded');
  }

  return { tree, load, loadError };
}
