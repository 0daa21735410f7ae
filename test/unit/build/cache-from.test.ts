import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFrom } from '../../../src/build/cache-from.js';
import type { ImageConfig } from '../../../src/images/index.js';
import { chainIdOf } from '../../../src/storage/index.js';

const d = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const cfg = (history: Array<[string, boolean]>, diffIds: string[]): ImageConfig => ({
  architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds },
  history: history.map(([created_by, empty]) => ({ created_by, ...(empty ? { empty_layer: true } : {}) })),
} as ImageConfig);

/** Images by id; lowerDirs names the chain so the test sees which layer was picked. */
async function open(images: Record<string, ImageConfig>, refs: string[], warnings: string[] = []): Promise<CacheFrom> {
  return CacheFrom.open({
    resolve: (ref) => { if (!(ref in images)) throw new Error(`No such image: ${ref}`); return { id: ref, chainId: null }; },
    config: async (id) => images[id] as ImageConfig,
    lowerDirs: (chain) => [`/layers/${chain}/diff`],
  }, refs, (m) => warnings.push(m));
}

describe('--cache-from matching (legacy builder semantics)', () => {
  const base = cfg([['', false]], [d(1)]);
  const src = cfg([['', false], ['#(nop)  ENV A=1', true], ['#(nop) COPY file:aa in /a ', false], ['#(nop)  CMD ["x"]', true]], [d(1), d(2)]);
  const afterEnv = cfg([['', false], ['#(nop)  ENV A=1', true]], [d(1)]);
  const afterCopy = cfg([['', false], ['#(nop)  ENV A=1', true], ['#(nop) COPY file:aa in /a ', false]], [d(1), d(2)]);

  test('the next history entry after a matching prefix is reused: config-only or the layer at that place', async () => {
    const c = await open({ base, src, afterEnv, afterCopy }, ['src']);
    assert.deepEqual(await c.match('base', '#(nop)  ENV A=1'), { ref: 'src', layer: null });
    assert.deepEqual(await c.match('afterEnv', '#(nop) COPY file:aa in /a '), { ref: 'src', layer: { dir: `/layers/${chainIdOf([d(1), d(2)])}/diff` } });
    assert.deepEqual(await c.match('afterCopy', '#(nop)  CMD ["x"]'), { ref: 'src', layer: null });
  });

  test('a different created_by, a diverging parent or the end of the history is a miss', async () => {
    const other = cfg([['', false], ['#(nop)  ENV A=2', true]], [d(1)]);
    const otherBase = cfg([['', false]], [d(9)]);
    const c = await open({ base, src, other, otherBase, afterCopy2: cfg([...src.history!.map((h) => [h.created_by ?? '', Boolean(h.empty_layer)] as [string, boolean])], [d(1), d(2)]) }, ['src']);
    assert.equal(await c.match('base', '#(nop)  ENV A=2'), null);
    assert.equal(await c.match('other', '#(nop) COPY file:aa in /a '), null);
    assert.equal(await c.match('otherBase', '#(nop)  ENV A=1'), null);
    assert.equal(await c.match('afterCopy2', '#(nop)  CMD ["x"]'), null);
  });

  test('an image that is not here is warned about and skipped', async () => {
    const warnings: string[] = [];
    const c = await open({ base }, ['missing:1'], warnings);
    assert.equal(c.empty, true);
    assert.match(warnings[0] ?? '', /cache-from image missing:1 not found/);
  });
});
