import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerRow, imageRows } from '../../../src/cli/rows.js';
import { renderList } from '../../../src/cli/render.js';
import { PS_TABLE, PS_HEADERS } from '../../../src/cli/commands/ps.js';
import type { ContainerSummary, ImageSummary } from '../../../src/client/index.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

const container: ContainerSummary = {
  Id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  Names: ['/web'],
  Image: 'busybox',
  ImageID: 'sha256:ffff',
  Command: 'true',
  Created: NOW / 1000 - 60,
  Ports: [],
  Labels: { role: '<a&b>' },
  State: 'exited',
  Status: 'Exited (0) 1 minute ago',
};

test('ps --format json marshals the row as docker\'s ContainerContext: sorted keys, HTML escaped, Platform null, Size 0B without sizes', () => {
  const out = renderList([containerRow(container, { trunc: true, now: NOW })], { format: 'json', defaultTable: PS_TABLE, headers: PS_HEADERS });
  const line = out.trimEnd();
  assert.equal(line.split('\n').length, 1);
  const keys = Object.keys(JSON.parse(line) as object);
  assert.deepEqual(keys, [...keys].sort());
  assert.ok(line.includes('"Labels":"role=\\u003ca\\u0026b\\u003e"'), line);
  assert.ok(line.includes('"Platform":null,"Ports":""'), line);
  assert.ok(line.includes('"Size":"0B"'), line);
});

test('a template that is not {{json .}} prints the values as they are', () => {
  const out = renderList([containerRow(container, { trunc: true, now: NOW })], { format: '{{.Labels}} {{json .Names}}', defaultTable: PS_TABLE, headers: PS_HEADERS });
  assert.equal(out, 'role=<a&b> "web"\n');
});

test('images --format json: <none> escaped, VirtualSize with four digits as docker\'s imageContext', () => {
  const img: ImageSummary = {
    Id: 'sha256:6c305eccaacc650015d69367674d1e7215f51e780199717d6a5340e0553ccacf',
    ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: NOW / 1000 - 5, Size: 1_984_000,
    SharedSize: -1, VirtualSize: 1_984_000, Labels: {}, Containers: -1,
  } as ImageSummary;
  const out = renderList(imageRows(img, { trunc: true, now: NOW, digests: false }), { format: 'json', defaultTable: '', headers: {} });
  // CreatedAt is in the local time zone, as docker prints it.
  assert.equal(out.replace(/"CreatedAt":"[^"]*"/, '"CreatedAt":"…"'), '{"Containers":"N/A","CreatedAt":"…","CreatedSince":"5 seconds ago","Digest":"\\u003cnone\\u003e","ID":"6c305eccaacc","Repository":"busybox","SharedSize":"N/A","Size":"1.98MB","Tag":"latest","UniqueSize":"N/A","VirtualSize":"1.984MB"}\n');
});
