import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ago, bytesSize, containerStatus, formatTable, fromHumanSize, humanDuration, humanSize, isFullId, isShortId,
  generateId, parseDuration, ramInBytes, tabwrite, templateString, truncateId,
} from '../../../src/cli/format/index.js';

const HEADER = { ID: 'CONTAINER ID', Image: 'IMAGE', Status: 'STATUS', Names: 'NAMES' };
const rows = [
  { ID: '4f66ad9a0b2e', Image: 'nginx:1', Status: 'Up 5 minutes', Names: 'web' },
  { ID: 'c0ffee123456', Image: 'busybox', Status: 'Exited (0) 3 seconds ago', Names: 'a-much-longer-name' },
];

test('a table format prints docker column titles and aligns columns with 3 spaces of padding', () => {
  const out = formatTable(rows, 'table {{.ID}}\\t{{.Image}}\\t{{.Status}}\\t{{.Names}}', { header: HEADER });
  assert.equal(out, [
    'CONTAINER ID   IMAGE     STATUS                     NAMES',
    '4f66ad9a0b2e   nginx:1   Up 5 minutes               web',
    'c0ffee123456   busybox   Exited (0) 3 seconds ago   a-much-longer-name',
    '',
  ].join('\n'));
});

test('columns are at least 10 wide, as docker sets its tabwriter', () => {
  assert.equal(formatTable([{ A: 'x', B: 'y' }], 'table {{.A}}\t{{.B}}', { header: { A: 'A', B: 'B' } }), 'A         B\nx         y\n');
});

test('a table with no rows still prints its header', () => {
  assert.equal(formatTable([], 'table {{.ID}}\t{{.Names}}', { header: HEADER }), 'CONTAINER ID   NAMES\n');
});

test('header functions keep column titles: upper, lower and truncate do not change them', () => {
  const out = formatTable([{ Names: 'Web' }], 'table {{upper .Names}}\t{{truncate .Names 1}}|', { header: HEADER });
  assert.equal(out, 'NAMES     NAMES|\nWEB       W|\n');
});

test('a plain format prints one line per row, without header or alignment', () => {
  assert.equal(formatTable(rows, '{{.ID}}: {{.Names}}'), '4f66ad9a0b2e: web\nc0ffee123456: a-much-longer-name\n');
  assert.equal(formatTable([{ A: 1 }], 'json'), '{"A":1}\n');
});

test('templateString follows docker: table prefix, trimmed spaces, \\t and \\n sequences', () => {
  assert.equal(templateString('table {{.ID}}\\t{{.Names}}'), '{{.ID}}\t{{.Names}}');
  assert.equal(templateString('  {{.ID}}\\n '), '{{.ID}}\n');
  assert.equal(templateString('json'), '{{json .}}');
  assert.equal(templateString('table'), '');
});

test('tabwriter formats each block of lines that share a column on its own', () => {
  const text = 'a\tb\tc\naaaa\tbbbbbbbbbbbbb\tc\nno tabs here\nx\ty\n';
  assert.equal(tabwrite(text, { minWidth: 0, tabWidth: 8, padding: 1, padChar: ' ' }), 'a    b             c\naaaa bbbbbbbbbbbbb c\nno tabs here\nx y\n');
  assert.equal(tabwrite('日本\tx\nab\ty\n', { minWidth: 0, padding: 1 }), '日本 x\nab   y\n');
  assert.equal(tabwrite('a\tb\n', { alignRight: true, minWidth: 0, padding: 2 }), '  ab\n');
});

test('humanSize and bytesSize print like go-units', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(4100), '4.1kB');
  assert.equal(humanSize(1_234_567), '1.235MB');
  assert.equal(humanSize(1.5e9), '1.5GB');
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(10 * 1024 * 1024), '10MiB');
});

test('sizes parse with docker units, binary for RAMInBytes and decimal for FromHumanSize', () => {
  assert.equal(ramInBytes('512k'), 512 * 1024);
  assert.equal(ramInBytes('10m'), 10 * 1024 * 1024);
  assert.equal(ramInBytes('1g'), 1024 ** 3);
  assert.equal(ramInBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('32'), 32);
  assert.equal(ramInBytes('64 MB'), 64 * 1024 * 1024);
  assert.equal(fromHumanSize('10m'), 10_000_000);
  assert.throws(() => ramInBytes('abc'), { message: "invalid size: 'abc'" });
  assert.throws(() => ramInBytes('10x'), { message: "invalid suffix: 'x'" });
  assert.throws(() => ramInBytes('10mbb'), { message: "invalid suffix: 'mbb'" });
  assert.throws(() => ramInBytes('-1m'), { message: "invalid size: '-1m'" });
});

test('humanDuration uses go-units wording at each boundary', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [0, 'Less than a second'], [1 * s, '1 second'], [47 * s, '47 seconds'], [60 * s, 'About a minute'],
    [5 * 60 * s, '5 minutes'], [59 * 60 * s, '59 minutes'], [60 * 60 * s, 'About an hour'], [2 * 3600 * s, '2 hours'],
    [47 * 3600 * s, '47 hours'], [3 * 86400 * s, '3 days'], [14 * 86400 * s, '2 weeks'], [90 * 86400 * s, '3 months'],
    [2 * 365 * 86400 * s, '2 years'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, `${ms} ms`);
  assert.equal(ago(new Date(1_000_000 - 5 * 60 * s), 1_000_000), '5 minutes ago');
});

test('durations parse like Go time.ParseDuration, in seconds', () => {
  assert.equal(parseDuration('10s'), 10);
  assert.equal(parseDuration('1m30s'), 90);
  assert.equal(parseDuration('1h'), 3600);
  assert.equal(parseDuration('1.5h'), 5400);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('-2m'), -120);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('10'), { message: 'time: missing unit in duration "10"' });
  assert.throws(() => parseDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.throws(() => parseDuration('abc'), { message: 'time: invalid duration "abc"' });
});

test('container status strings read like docker ps', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const min = 60_000;
  assert.equal(containerStatus({ running: true, startedAt: new Date(now - 5 * min) }, now), 'Up 5 minutes');
  assert.equal(containerStatus({ running: true, paused: true, startedAt: now - 2 * min }, now), 'Up 2 minutes (Paused)');
  assert.equal(containerStatus({ running: true, health: 'starting', startedAt: now - 1000 }, now), 'Up 1 second (health: starting)');
  assert.equal(containerStatus({ running: true, health: 'healthy', startedAt: now - 3 * 3600_000 }, now), 'Up 3 hours (healthy)');
  assert.equal(containerStatus({ exitCode: 137, startedAt: now - min, finishedAt: new Date(now - 3000).toISOString() }, now), 'Exited (137) 3 seconds ago');
  assert.equal(containerStatus({ startedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
  assert.equal(containerStatus({}, now), 'Created');
  assert.equal(containerStatus({ dead: true, startedAt: now - min }, now), 'Dead');
});

test('ids are truncated to 12 characters without their algorithm prefix', () => {
  const id = 'sha256:4f66ad9a0b2e1c3d5f7a9b0c2d4e6f8091a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1';
  assert.equal(truncateId(id), '4f66ad9a0b2e');
  assert.equal(truncateId('abc'), 'abc');
  const fresh = generateId();
  assert.ok(isFullId(fresh));
  assert.ok(isShortId(truncateId(fresh)));
  assert.ok(!/^\d+$/.test(truncateId(fresh)));
  assert.ok(!isShortId('XYZ'));
});
