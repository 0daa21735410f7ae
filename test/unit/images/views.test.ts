import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageConfig, ImageRecord } from '../../../src/images/index.js';
import { historyOf, inspectConfig, summaryOf } from '../../../src/images/views.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;

function record(over: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: d('f'), chainId: d('2'), parent: '', size: 30, created: '2024-05-01T10:00:00Z', lastTagTime: '',
    layers: [{ chainId: d('1'), diffId: d('1'), size: 10 }, { chainId: d('2'), diffId: d('3'), size: 20 }],
    repoTags: ['app:1'], repoDigests: [], ...over,
  };
}

const config: ImageConfig = {
  architecture: 'amd64', os: 'linux', created: '2024-05-01T10:00:00Z',
  rootfs: { type: 'layers', diff_ids: [d('1'), d('3')] },
  history: [
    { created: '2024-05-01T09:00:00Z', created_by: 'ADD rootfs', comment: 'base' },
    { created: '2024-05-01T09:30:00Z', created_by: 'ENV A=1', empty_layer: true },
    { created: '2024-05-01T10:00:00Z', created_by: 'RUN make' },
  ],
};

test('history is newest first, empty_layer entries have size 0 and layers are matched in order', () => {
  const h = historyOf(record(), config, new Map());
  assert.deepEqual(h.map((e) => [e.Id, e.CreatedBy, e.Size, e.Tags]), [
    [d('f'), 'RUN make', 20, ['app:1']],
    ['<missing>', 'ENV A=1', 0, null],
    ['<missing>', 'ADD rootfs', 10, null],
  ]);
  assert.equal(h[2]?.Created, Date.parse('2024-05-01T09:00:00Z') / 1000);
});

test('history names a local parent image at the entry where its own history ends', () => {
  const parent = record({ id: d('e'), repoTags: ['base:latest'] });
  const h = historyOf(record({ parent: d('e') }), config, new Map([[1, parent]]));
  assert.deepEqual(h.map((e) => e.Id), [d('f'), '<missing>', d('e')]);
  assert.deepEqual(h[2]?.Tags, ['base:latest']);
});

test('a config without history still shows one entry per layer', () => {
  const { history: _omit, ...bare } = config;
  assert.equal(historyOf(record(), bare, new Map()).length, 2);
});

test('the inspect Config always carries Docker\'s fixed fields', () => {
  const c = inspectConfig({ ...config, config: { Cmd: ['sh'] } });
  assert.equal(c.Entrypoint, null);
  assert.equal(c.Hostname, '');
  assert.equal(c.AttachStdin, false);
  assert.deepEqual(c.Cmd, ['sh']);
});

test('summary reports Docker\'s -1 SharedSize and null Labels when the image has none', () => {
  const s = summaryOf(record(), config, 2);
  assert.equal(s.SharedSize, -1);
  assert.equal(s.Labels, null);
  assert.equal(s.Containers, 2);
  assert.equal(s.Created, Date.parse('2024-05-01T10:00:00Z') / 1000);
});
