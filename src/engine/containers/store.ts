import type Database from 'better-sqlite3';
import { Conflict, NotFound } from '../../errdefs/index.js';
import { matchIdPrefix } from '../ids.js';
import type { ContainerRecord } from './record.js';

export interface MetadataDbLike {
  db: Database.Database;
  migrate(component: string, statements: string[]): void;
}

/**
 * Containers in memory, written through to SQLite on every change so a crash at any point leaves
 * what was last saved. Names are unique: the UNIQUE column is the source of truth, the map a cache.
 */
export class ContainerStore {
  #byId = new Map<string, ContainerRecord>();
  #byName = new Map<string, string>();
  #insert: Database.Statement;
  #update: Database.Statement;
  #delete: Database.Statement;

  constructor(meta: MetadataDbLike) {
    meta.migrate('containers', [
      `CREATE TABLE containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image TEXT NOT NULL, record TEXT NOT NULL)`,
    ]);
    const db = meta.db;
    this.#insert = db.prepare('INSERT INTO containers (id, name, image, record) VALUES (?, ?, ?, ?)');
    this.#update = db.prepare('UPDATE containers SET name = ?, image = ?, record = ? WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM containers WHERE id = ?');
    for (const row of db.prepare('SELECT record FROM containers').all() as Array<{ record: string }>) {
      const rec = JSON.parse(row.record) as ContainerRecord;
      this.#byId.set(rec.Id, rec);
      this.#byName.set(rec.Name, rec.Id);
    }
  }

  all(): ContainerRecord[] {
    return [...this.#byId.values()];
  }

  nameTaken(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Resolves a full id, a name (with or without '/'), or a unique id prefix, like docker. */
  find(ref: string): ContainerRecord | undefined {
    const exact = this.#byId.get(ref);
    if (exact) return exact;
    const byName = this.#byName.get(ref.replace(/^\//, ''));
    if (byName) return this.#byId.get(byName);
    const id = matchIdPrefix(this.#byId.keys(), ref, 'container');
    return id === undefined ? undefined : this.#byId.get(id);
  }

  get(ref: string): ContainerRecord {
    const rec = this.find(ref);
    if (!rec) throw new NotFound(`No such container: ${ref}`);
    return rec;
  }

  /** Conflict with docker's message when another container holds `name`. */
  assertNameFree(name: string, except?: string): void {
    const holder = this.#byName.get(name);
    if (holder && holder !== except) throw nameInUse(name, holder);
  }

  add(rec: ContainerRecord): void {
    this.assertNameFree(rec.Name);
    this.#insert.run(rec.Id, rec.Name, rec.Image, JSON.stringify(rec));
    this.#byId.set(rec.Id, rec);
    this.#byName.set(rec.Name, rec.Id);
  }

  save(rec: ContainerRecord): void {
    this.#update.run(rec.Name, rec.Image, JSON.stringify(rec), rec.Id);
  }

  rename(rec: ContainerRecord, newName: string): void {
    this.assertNameFree(newName, rec.Id);
    const old = rec.Name;
    rec.Name = newName;
    try {
      this.save(rec);
    } catch (err) {
      rec.Name = old;
      throw err;
    }
    this.#byName.delete(old);
    this.#byName.set(newName, rec.Id);
  }

  remove(rec: ContainerRecord): void {
    this.#delete.run(rec.Id);
    this.#byId.delete(rec.Id);
    this.#byName.delete(rec.Name);
  }
}

function nameInUse(name: string, holder: string): Conflict {
  return new Conflict(
    `Conflict. The container name "/${name}" is already in use by container "${holder}". ` +
      'You have to remove (or rename) that container to be able to reuse that name.',
  );
}
