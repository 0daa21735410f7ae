// Follow and rotation use real inotify and renames on a temp directory; conmon is played by the
// test, writing k8s-file records and reopening the file the way conmon's reopen_k8s_file does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, open, readFile, readdir, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogRotator, encodeRecords, logFiles, readLogs, type LogEntry } from '../../../src/logs/index.js';
import { withTempDir } from '../../support/temp-dir.js';

/** Starts consuming `iter` in the background; `text()` is what arrived so far. */
function consume(iter: AsyncIterable<LogEntry>): { text: () => string; done: Promise<void> } {
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const e of iter) parts.push(Buffer.from(e.data));
  })();
  return { text: () => Buffer.concat(parts).toString(), done };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** What conmon does on "2 0 0\n": write a new file and rename it over the log path. */
async function conmonReopen(path: string): Promise<void> {
  await writeFile(`${path}.tmp`, '');
  await rename(`${path}.tmp`, path);
}

/** conmon's side: one open fd it appends to, swapped for a fresh file on reopen. */
class FakeConmon {
  #path: string;
  #fh: Promise<FileHandle>;
  #queue: Promise<unknown> = Promise.resolve();
  constructor(path: string) {
    this.#path = path;
    this.#fh = open(path, 'a');
  }
  write(data: Buffer): Promise<void> {
    return this.#serial(async () => void (await (await this.#fh).write(data)));
  }
  reopen(): Promise<void> {
    return this.#serial(async () => {
      await (await this.#fh).close();
      await conmonReopen(this.#path);
      this.#fh = open(this.#path, 'a');
      await this.#fh;
    });
  }
  async close(): Promise<void> {
    await this.#queue;
    await (await this.#fh).close();
  }
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => {});
    return run;
  }
}

const rec = (s: string): Buffer => encodeRecords(new Date(), 'stdout', s);

test('follow sees appended data and ends when stopWhen resolves, after reading what is left', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, rec('before\n'));
    let exited!: () => void;
    const stopWhen = new Promise<void>((r) => (exited = r));
    const reader = consume(readLogs({ current: path, rotated: [] }, { follow: true, stopWhen }));
    await until(() => reader.text() === 'before\n', 'the existing line');
    await appendFile(path, rec('appended\n'));
    await until(() => reader.text() === 'before\nappended\n', 'the appended line');
    await appendFile(path, rec('last words'));
    exited();
    await reader.done;
    assert.equal(reader.text(), 'before\nappended\nlast words');
  });
});

test('follow continues into the new file after a rotation, finishing the old file first', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, rec('one\n'));
    const ac = new AbortController();
    const reader = consume(readLogs(logFiles(path, 3), { follow: true, signal: ac.signal }));
    await until(() => reader.text() === 'one\n', 'the first line');
    // The rotator renames; conmon still writes to the old file until it reopens.
    await rename(path, `${path}.1`);
    await appendFile(`${path}.1`, rec('two\n'));
    await conmonReopen(path);
    await appendFile(path, rec('three\n'));
    await until(() => reader.text() === 'one\ntwo\nthree\n', 'lines from both files');
    ac.abort();
    await reader.done;
    assert.equal(reader.text(), 'one\ntwo\nthree\n');
  });
});

test('follow with tail 0 shows only what is written after it starts', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, rec('old\n'));
    const ac = new AbortController();
    const reader = consume(readLogs({ current: path, rotated: [] }, { follow: true, tail: 0, signal: ac.signal }));
    await sleep(50);
    await appendFile(path, rec('new\n'));
    await until(() => reader.text() === 'new\n', 'the new line');
    ac.abort();
    await reader.done;
  });
});

test('follow waits for a log file that does not exist yet', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const ac = new AbortController();
    const reader = consume(readLogs({ current: path, rotated: [] }, { follow: true, signal: ac.signal }));
    await sleep(50);
    await writeFile(path, rec('hello\n'));
    await until(() => reader.text() === 'hello\n', 'the first line');
    ac.abort();
    await reader.done;
  });
});

test('rotator moves a file past max-size to .1, shifts older ones, keeps max-file files and asks for a reopen', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, '');
    let reopens = 0;
    const rotator = createLogRotator({
      path,
      maxSize: 1000,
      maxFiles: 3,
      throttleMs: 10,
      reopen: async () => {
        reopens++;
        await conmonReopen(path);
      },
    });
    try {
      for (let gen = 1; gen <= 4; gen++) {
        await appendFile(path, rec(`generation ${gen} ${'x'.repeat(1000)}\n`));
        await until(() => reopens === gen, `rotation ${gen}`);
        await rotator.check(); // let the rotation that was started finish
      }
      const names = (await readdir(dir)).sort();
      assert.deepEqual(names, ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
      assert.match(await readFile(`${path}.1`, 'utf8'), /generation 4/);
      assert.match(await readFile(`${path}.2`, 'utf8'), /generation 3/);
      assert.equal(await readFile(path, 'utf8'), '');
    } finally {
      rotator.close();
    }
  });
});

test('rotator with max-file 1 drops the old content instead of keeping a .1', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, rec('x'.repeat(2000)));
    let reopens = 0;
    const rotator = createLogRotator({ path, maxSize: 1000, maxFiles: 1, reopen: async () => {
      reopens++;
      await conmonReopen(path);
    } });
    try {
      await rotator.check();
      assert.equal(reopens, 1);
      assert.deepEqual(await readdir(dir), ['ctr.log']);
      assert.equal(await readFile(path, 'utf8'), '');
    } finally {
      rotator.close();
    }
  });
});

test('rotator leaves a file under max-size alone', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    await writeFile(path, rec('small\n'));
    let reopens = 0;
    const rotator = createLogRotator({ path, maxSize: 1000, maxFiles: 2, throttleMs: 5, reopen: async () => void reopens++ });
    try {
      await appendFile(path, rec('still small\n'));
      await sleep(50);
      await rotator.check();
      assert.equal(reopens, 0);
      assert.deepEqual(await readdir(dir), ['ctr.log']);
    } finally {
      rotator.close();
    }
  });
});

test('a follower keeps every line while the rotator rotates under it', async () => {
  await withTempDir('logs', async (dir) => {
    const path = join(dir, 'ctr.log');
    const conmon = new FakeConmon(path);
    const rotator = createLogRotator({ path, maxSize: 4096, maxFiles: 5, throttleMs: 5, reopen: () => conmon.reopen() });
    let exited!: () => void;
    const stopWhen = new Promise<void>((r) => (exited = r));
    const reader = consume(readLogs(logFiles(path, 5), { follow: true, stopWhen }));
    const expected: string[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const line = `line ${i} ${'y'.repeat(100)}\n`;
        expected.push(line);
        await conmon.write(rec(line));
        if (i % 20 === 0) await sleep(20);
      }
      await until(() => reader.text().length === expected.join('').length, 'all lines', 10_000);
      exited();
      await reader.done;
      assert.equal(reader.text(), expected.join(''));
      assert.ok((await readdir(dir)).includes('ctr.log.1'), 'the log was rotated while followed');
    } finally {
      exited();
      rotator.close();
      await conmon.close();
    }
  });
});
