import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadataDb } from '../../../src/storage/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

function withDb(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'hako-db-'));
  try {
    fn(join(dir, 'sub', 'hako.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('openMetadataDb creates the file in WAL mode with foreign keys on', () => {
  withDb((path) => {
    const m = openMetadataDb(path);
    try {
      assert.equal(m.db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(m.db.pragma('foreign_keys', { simple: true }), 1);
      assert.ok(Number(m.db.pragma('busy_timeout', { simple: true })) > 0);
    } finally {
      m.close();
    }
  });
});

test('migrate applies only the statements a component has not seen, across reopenings', () => {
  withDb((path) => {
    const v1 = ['CREATE TABLE t (a INTEGER)'];
    const v2 = [...v1, 'ALTER TABLE t ADD COLUMN b TEXT'];
    let m = openMetadataDb(path);
    assert.equal(m.migrate('things', v1), 1);
    assert.equal(m.migrate('things', v1), 0);
    m.close();
    m = openMetadataDb(path);
    try {
      assert.equal(m.migrate('things', v2), 1);
      m.db.prepare('INSERT INTO t (a, b) VALUES (1, ?)').run('x');
      assert.equal(m.migrate('others', ['CREATE TABLE u (a INTEGER)']), 1);
    } finally {
      m.close();
    }
  });
});

test('a failing migration leaves the schema and its version untouched', () => {
  withDb((path) => {
    const m = openMetadataDb(path);
    try {
      m.migrate('c', ['CREATE TABLE ok (a INTEGER)']);
      assert.throws(() => m.migrate('c', ['CREATE TABLE ok (a INTEGER)', 'CREATE TABLE second (a INTEGER)', 'NOT SQL']));
      assert.deepEqual(m.db.prepare("SELECT name FROM sqlite_master WHERE name = 'second'").all(), []);
      assert.equal(m.migrate('c', ['CREATE TABLE ok (a INTEGER)', 'CREATE TABLE second (a INTEGER)']), 1);
    } finally {
      m.close();
    }
  });
});

test('migrate refuses a schema newer than the code knows', () => {
  withDb((path) => {
    const m = openMetadataDb(path);
    try {
      m.migrate('c', ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER)']);
      assert.throws(() => m.migrate('c', ['CREATE TABLE a (x INTEGER)']), InvalidArgument);
    } finally {
      m.close();
    }
  });
});

test('transaction rolls back every write when the function throws, and nests', () => {
  withDb((path) => {
    const m = openMetadataDb(path);
    try {
      m.migrate('c', ['CREATE TABLE t (a INTEGER)']);
      const insert = m.db.prepare('INSERT INTO t (a) VALUES (?)');
      const count = () => (m.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
      assert.throws(() => m.transaction(() => {
        insert.run(1);
        throw new Error('boom');
      }), /boom/);
      assert.equal(count(), 0);
      m.transaction(() => {
        insert.run(1);
        m.transaction(() => insert.run(2));
      });
      assert.equal(count(), 2);
    } finally {
      m.close();
    }
  });
});
