import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLogs, encodeRecords, logFiles, type LogEntry, type ReadLogsOptions, type LogFiles } from '../../../src/logs/index.js';
import { withTempDir } from '../../support/temp-dir.js';

async function collect(files: LogFiles, opts: ReadLogsOptions = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(files, opts)) out.push({ ...e, data: Buffer.from(e.data) });
  return out;
}

/** The bytes of one stream, as the process wrote them. */
function streamBytes(entries: LogEntry[], stream: 'stdout' | 'stderr'): Buffer {
  return Buffer.concat(entries.filter((e) => e.stream === stream).map((e) => e.data));
}

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const at = (s: number): Date => new Date(T0 + s * 1000);

test('reader re-joins partial records into the bytes the process wrote', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([
      encodeRecords(at(0), 'stdout', 'hello\nwor'),
      encodeRecords(at(1), 'stdout', 'ld\n'),
      encodeRecords(at(2), 'stdout', 'no newline at the end'),
    ]));
    const entries = await collect({ current: path, rotated: [] });
    assert.equal(streamBytes(entries, 'stdout').toString(), 'hello\nworld\nno newline at the end');
    assert.deepEqual(entries.map((e) => e.data.toString()), ['hello\n', 'wor', 'ld\n', 'no newline at the end']);
    assert.deepEqual(entries.map((e) => e.time.getTime()), [T0, T0, T0 + 1000, T0 + 2000]);
  });
});

test('reader returns binary output byte for byte, including NUL, CR and invalid UTF-8', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const bytes = Buffer.alloc(1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) & 0xff;
    await writeFile(path, encodeRecords(at(0), 'stdout', bytes));
    const entries = await collect({ current: path, rotated: [] });
    assert.ok(streamBytes(entries, 'stdout').equals(bytes));
  });
});

test('reader parses conmon timestamps with a numeric offset and the Z form', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, [
      '2024-05-01T12:00:00.123456789+02:00 stdout F a\n',
      '2024-05-01T10:00:01Z stderr F b\n',
      '2024-05-01T05:00:02.5-05:00 stdout F c\n',
    ].join(''));
    const entries = await collect({ current: path, rotated: [] });
    assert.deepEqual(entries.map((e) => e.time.toISOString()), ['2024-05-01T10:00:00.123Z', '2024-05-01T10:00:01.000Z', '2024-05-01T10:00:02.500Z']);
    assert.deepEqual(entries.map((e) => e.stream), ['stdout', 'stderr', 'stdout']);
  });
});

test('an empty line the process wrote comes back as a lone newline', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, encodeRecords(at(0), 'stdout', 'a\n\nb\n'));
    const entries = await collect({ current: path, rotated: [] });
    assert.equal(streamBytes(entries, 'stdout').toString(), 'a\n\nb\n');
  });
});

test('stdout and stderr filters keep only the chosen stream', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([
      encodeRecords(at(0), 'stdout', 'out 1\n'),
      encodeRecords(at(0), 'stderr', 'err 1\n'),
      encodeRecords(at(1), 'stdout', 'out 2\n'),
    ]));
    const files = { current: path, rotated: [] };
    assert.deepEqual((await collect(files, { stderr: false })).map((e) => e.data.toString()), ['out 1\n', 'out 2\n']);
    assert.deepEqual((await collect(files, { stdout: false })).map((e) => e.data.toString()), ['err 1\n']);
    assert.deepEqual(await collect(files, { stdout: false, stderr: false }), []);
  });
});

test('files are read oldest rotated file first, and missing rotated files are skipped', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(`${path}.2`, encodeRecords(at(0), 'stdout', 'one\n'));
    await writeFile(`${path}.1`, encodeRecords(at(1), 'stdout', 'two\n'));
    await writeFile(path, encodeRecords(at(2), 'stdout', 'three\n'));
    const entries = await collect(logFiles(path, 5));
    assert.equal(streamBytes(entries, 'stdout').toString(), 'one\ntwo\nthree\n');
  });
});

test('tail takes the last lines across rotated files', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(`${path}.2`, encodeRecords(at(0), 'stdout', '1\n2\n3\n'));
    await writeFile(`${path}.1`, encodeRecords(at(1), 'stdout', '4\n5\n'));
    await writeFile(path, encodeRecords(at(2), 'stderr', '6\n7\n'));
    const files = logFiles(path, 3);
    const text = async (tail: number | 'all'): Promise<string> =>
      (await collect(files, { tail })).map((e) => e.data.toString()).join('');
    assert.equal(await text(1), '7\n');
    assert.equal(await text(2), '6\n7\n');
    assert.equal(await text(3), '5\n6\n7\n');
    assert.equal(await text(6), '2\n3\n4\n5\n6\n7\n');
    assert.equal(await text(100), '1\n2\n3\n4\n5\n6\n7\n');
    assert.equal(await text('all'), '1\n2\n3\n4\n5\n6\n7\n');
    assert.equal(await text(0), '');
  });
});

test('tail counts lines the process wrote, not partial records, and a last line without newline counts', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([
      encodeRecords(at(0), 'stdout', 'first\nsec'),
      encodeRecords(at(0), 'stdout', 'ond\nthi'),
      encodeRecords(at(0), 'stdout', 'rd'),
    ]));
    const files = { current: path, rotated: [] };
    const text = async (tail: number): Promise<string> => (await collect(files, { tail })).map((e) => e.data.toString()).join('');
    assert.equal(await text(1), 'third');
    assert.equal(await text(2), 'second\nthird');
    assert.equal(await text(3), 'first\nsecond\nthird');
  });
});

test('tail of a file larger than many read blocks returns just the last lines', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(`line ${i} ${'x'.repeat(i % 50)}\n`);
    await writeFile(path, encodeRecords(at(0), 'stdout', lines.join('')));
    const entries = await collect({ current: path, rotated: [] }, { tail: 3 });
    assert.deepEqual(entries.map((e) => e.data.toString()), lines.slice(-3));
    const many = await collect({ current: path, rotated: [] }, { tail: 20_000 });
    assert.equal(many.length, 20_000);
    assert.equal(many[0]!.data.toString(), lines[30_000]);
  });
});

test('since and until keep the records inside the time window', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([0, 10, 20, 30].map((s) => encodeRecords(at(s), 'stdout', `t${s}\n`))));
    const files = { current: path, rotated: [] };
    const sec = (s: number): number => (T0 + s * 1000) / 1000;
    const text = async (o: ReadLogsOptions): Promise<string> => (await collect(files, o)).map((e) => e.data.toString()).join('');
    assert.equal(await text({ since: sec(10) }), 't10\nt20\nt30\n');
    assert.equal(await text({ until: sec(20) }), 't0\nt10\nt20\n');
    assert.equal(await text({ since: sec(5), until: sec(25) }), 't10\nt20\n');
    assert.equal(await text({ since: sec(10.5) }), 't20\nt30\n');
    assert.equal(await text({ tail: 3, since: sec(15) }), 't20\nt30\n');
  });
});

test('a line that is not a k8s-file record is skipped, not shown as garbage', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, Buffer.concat([Buffer.from('garbage without format\n'), encodeRecords(at(0), 'stdout', 'ok\n')]));
    assert.deepEqual((await collect({ current: path, rotated: [] })).map((e) => e.data.toString()), ['ok\n']);
  });
});

test('an incomplete last record (conmon mid-write) is not shown until it is complete', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const rec = encodeRecords(at(0), 'stdout', 'done\n');
    await writeFile(path, Buffer.concat([rec, rec.subarray(0, 20)]));
    assert.deepEqual((await collect({ current: path, rotated: [] })).map((e) => e.data.toString()), ['done\n']);
    await appendFile(path, rec.subarray(20));
    assert.equal((await collect({ current: path, rotated: [] })).length, 2);
  });
});

test('a missing log file reads as empty', async () => {
  await withTempDir('logs', async (dir) => {
    assert.deepEqual(await collect({ current: join(dir, 'nope.log'), rotated: [join(dir, 'nope.log.1')] }, { tail: 5 }), []);
  });
});

test('200,000 lines read in well under a second', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const chunk: string[] = [];
    for (let i = 0; i < 200_000; i++) chunk.push(`GET /api/items/${i} 200 0.${i % 1000}ms\n`);
    await writeFile(path, encodeRecords(at(0), 'stdout', chunk.join('')));
    const started = process.hrtime.bigint();
    let lines = 0;
    let bytes = 0;
    for await (const e of readLogs({ current: path, rotated: [] })) {
      lines++;
      bytes += e.data.length;
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`# read 200,000 lines (${(bytes / 1e6).toFixed(1)} MB of output) in ${ms.toFixed(0)} ms`);
    assert.equal(lines, 200_000);
    assert.ok(ms < 1000, `took ${ms} ms`);
  });
});
