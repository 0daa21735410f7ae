import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerRow, imageRows, displayPorts, ellipsis } from '../../../src/cli/rows.js';
import { renderList, renderInspect, alignTable } from '../../../src/cli/render.js';
import { PS_TABLE, PS_HEADERS } from '../../../src/cli/commands/ps.js';
import { parseTimestamp } from '../../../src/cli/units.js';
import type { ContainerSummary, ImageSummary } from '../../../src/client/index.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const created = NOW / 1000 - 3 * 60;

const container: ContainerSummary = {
  Id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  Names: ['/web'],
  Image: 'busybox',
  ImageID: 'sha256:ffff',
  Command: 'sh -c while true; do sleep 1; done',
  Created: created,
  Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }],
  Labels: { app: 'web' },
  State: 'running',
  Status: 'Up 3 minutes',
};

test('a ps row truncates the id and the quoted command', () => {
  const r = containerRow(container, { trunc: true, now: NOW });
  assert.equal(r.ID, 'a1b2c3d4e5f6');
  assert.equal(r.Command, '"sh -c while true; d…"');
  assert.equal(r.RunningFor, '3 minutes ago');
  assert.equal(r.Names, 'web');
  assert.equal(r.Ports, '443/tcp, 0.0.0.0:8080->80/tcp');
});

test('the default ps table aligns columns like docker', () => {
  const out = renderList([containerRow(container, { trunc: true, now: NOW })], { format: '', defaultTable: PS_TABLE, headers: PS_HEADERS });
  assert.equal(out,
    'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                           NAMES\n' +
    'a1b2c3d4e5f6   busybox   "sh -c while true; d…"   3 minutes ago   Up 3 minutes   443/tcp, 0.0.0.0:8080->80/tcp   web\n');
});

test('custom formats, table formats and json work on rows', () => {
  const row = containerRow(container, { trunc: true, now: NOW });
  assert.equal(renderList([row], { format: '{{.Names}} {{.State}}', defaultTable: PS_TABLE, headers: PS_HEADERS }), 'web running\n');
  assert.equal(renderList([row], { format: 'table {{.Names}}\\t{{.Status}}', defaultTable: PS_TABLE, headers: PS_HEADERS }),
    'NAMES     STATUS\nweb       Up 3 minutes\n');
  const json = JSON.parse(renderList([row], { format: '{{json .}}', defaultTable: PS_TABLE, headers: PS_HEADERS })) as Record<string, string>;
  assert.equal(json['Names'], 'web');
  assert.equal(json['Labels'], 'app=web');
  assert.equal(renderList([row], { format: '{{.Label "app"}}', defaultTable: PS_TABLE, headers: PS_HEADERS }), 'web\n');
});

test('--no-trunc keeps the full id and command', () => {
  const r = containerRow(container, { trunc: false, now: NOW });
  assert.equal(r.ID, container.Id);
  assert.equal(r.Command, `"${container.Command}"`);
});

test('an image with two tags gives two rows; an untagged one gives <none>', () => {
  const img: ImageSummary = {
    Id: 'sha256:0123456789abcdef0123456789abcdef', ParentId: '', RepoTags: ['busybox:latest', 'bb:1'], RepoDigests: [],
    Created: NOW / 1000 - 2 * 3600, Size: 1_980_000, SharedSize: -1, Labels: null, Containers: -1,
  };
  const rows = imageRows(img, { trunc: true, now: NOW, digests: false });
  assert.deepEqual(rows.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size]), [
    ['busybox', 'latest', '0123456789ab', '2 hours ago', '1.98MB'],
    ['bb', '1', '0123456789ab', '2 hours ago', '1.98MB'],
  ]);
  const none = imageRows({ ...img, RepoTags: [] }, { trunc: true, now: NOW, digests: false });
  assert.deepEqual(none.map((r) => [r.Repository, r.Tag]), [['<none>', '<none>']]);
});

test('ports group into ranges and list host mappings last, as docker does', () => {
  assert.equal(displayPorts([
    { PrivatePort: 82, Type: 'tcp' }, { PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 81, Type: 'tcp' },
  ]), '80-82/tcp');
  assert.equal(displayPorts([{ IP: '8.8.8.8', PrivatePort: 82, PublicPort: 82, Type: 'tcp' }]), '8.8.8.8:82->82/tcp');
  assert.equal(displayPorts([
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
  ]), '443/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
});

test('ellipsis cuts long text with a trailing ellipsis', () => {
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
});

test('timestamps accept RFC3339, unix seconds and relative durations', () => {
  assert.equal(parseTimestamp('1700000000'), '1700000000');
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z'), '1704164645.000000000');
  assert.equal(parseTimestamp('10m', NOW), `${NOW / 1000 - 600}.000000000`);
  assert.throws(() => parseTimestamp('yesterday'), /failed to parse value as time or duration/);
});

test('inspect output is a 4-space indented array, or the template per object', () => {
  assert.equal(renderInspect([{ Id: 'x', State: { Running: true } }], ''), '[\n    {\n        "Id": "x",\n        "State": {\n            "Running": true\n        }\n    }\n]\n');
  assert.equal(renderInspect([{ State: { Running: true, Pid: 42 } }], '{{.State.Running}} {{.State.Pid}}'), 'true 42\n');
  assert.equal(renderInspect([{ Config: { Env: ['A=1'] } }], '{{json .Config.Env}}'), '["A=1"]\n');
});

test('inspect templates support index, join and printf', () => {
  const dot = { Labels: { a: '1' }, List: ['x', 'y'], N: 3 };
  assert.equal(renderInspect([dot], '{{index .Labels "a"}}-{{join .List ","}}-{{printf "%s/%d" "p" .N}}'), '1-x,y-p/3\n');
});

test('a broken template is a template parsing error', () => {
  assert.throws(() => renderInspect([{}], '{{.Foo'), /^StatusError: template parsing error: /);
});

test('tables pad to at least ten columns plus three spaces of padding', () => {
  assert.equal(alignTable(['A\tB', 'longer-cell-here\tC']), 'A                  B\nlonger-cell-here   C\n');
});
