/**
 * The metadata database: one SQLite file (WAL) shared by the subsystems, each owning its own
 * tables through `migrate(component, statements)`. A crash at any point leaves a consistent state
 * because every write that spans rows runs in a transaction.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';

export interface MetadataDb {
  /** The better-sqlite3 handle, for prepared statements in the owning subsystem. */
  readonly db: Database.Database;
  /**
   * Brings `component`'s tables up to date. `statements` is the component's whole, append-only
   * history: statement i is schema version i+1. Only the ones not yet applied run, in one
   * transaction with the version bump. Returns the number of statements applied now.
   */
  migrate(component: string, statements: readonly string[]): number;
  /** Runs `fn` in a transaction (nested calls become savepoints); commits unless it throws. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenMetadataDbOptions {
  /** Milliseconds a writer waits for another connection's lock. Default 5000. */
  busyTimeoutMs?: number;
}

/** Opens (creating if missing) the database at `path`; `':memory:'` works for tests. */
export function openMetadataDb(path: string, opts: OpenMetadataDbOptions = {}): MetadataDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: opts.busyTimeoutMs ?? 5000 });
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL;
    // https://www.sqlite.org/pragma.html#pragma_synchronous
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    db.exec(`CREATE TABLE IF NOT EXISTS schema_versions (
      component TEXT PRIMARY KEY,
      version INTEGER NOT NULL
    ) STRICT`);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteMetadataDb(db);
}

class SqliteMetadataDb implements MetadataDb {
  readonly db: Database.Database;
  #getVersion: Database.Statement<[string], { version: number }>;
  #setVersion: Database.Statement<[string, number]>;

  constructor(db: Database.Database) {
    this.db = db;
    this.#getVersion = db.prepare('SELECT version FROM schema_versions WHERE component = ?');
    this.#setVersion = db.prepare(
      'INSERT INTO schema_versions (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version');
  }

  migrate(component: string, statements: readonly string[]): number {
    if (!component) throw new InvalidArgument('migrate: the component name is empty');
    return this.db.transaction(() => {
      const current = this.#getVersion.get(component)?.version ?? 0;
      if (current > statements.length) {
        throw new InvalidArgument(
          `metadata database: component "${component}" is at schema version ${current}, newer than this hako knows (${statements.length}); upgrade hako or use another data root`);
      }
      for (const sql of statements.slice(current)) this.db.exec(sql);
      if (statements.length > current) this.#setVersion.run(component, statements.length);
      return statements.length - current;
    }).immediate();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
