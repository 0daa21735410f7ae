/**
 * Volume records and each container's mount points, in the metadata database (tables owned by
 * this subsystem). Written through on every change; read once at start.
 */
import type Database from 'better-sqlite3';
import type { MountPoint } from './mount-spec.js';

export interface MetadataDbLike {
  db: Database.Database;
  migrate(component: string, statements: string[]): unknown;
}

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  /** RFC 3339 with seconds, as docker (`2024-05-01T10:00:00Z`). */
  CreatedAt: string;
  Labels: Record<string, string>;
  /** The local driver's options (type, o, device), or null when none were given. */
  Options: Record<string, string> | null;
}

export class VolumeStore {
  readonly volumes = new Map<string, VolumeRecord>();
  /** container id -> its mount points. */
  readonly mounts = new Map<string, MountPoint[]>();
  #putVolume: Database.Statement;
  #delVolume: Database.Statement;
  #putMounts: Database.Statement;
  #delMounts: Database.Statement;

  constructor(meta: MetadataDbLike) {
    meta.migrate('volumes', [
      'CREATE TABLE volumes (name TEXT PRIMARY KEY, record TEXT NOT NULL)',
      'CREATE TABLE volume_mounts (container_id TEXT PRIMARY KEY, mounts TEXT NOT NULL)',
    ]);
    const db = meta.db;
    this.#putVolume = db.prepare('INSERT OR REPLACE INTO volumes (name, record) VALUES (?, ?)');
    this.#delVolume = db.prepare('DELETE FROM volumes WHERE name = ?');
    this.#putMounts = db.prepare('INSERT OR REPLACE INTO volume_mounts (container_id, mounts) VALUES (?, ?)');
    this.#delMounts = db.prepare('DELETE FROM volume_mounts WHERE container_id = ?');
    for (const row of db.prepare('SELECT record FROM volumes').all() as Array<{ record: string }>) {
      const v = JSON.parse(row.record) as VolumeRecord;
      this.volumes.set(v.Name, v);
    }
    for (const row of db.prepare('SELECT container_id, mounts FROM volume_mounts').all() as Array<{ container_id: string; mounts: string }>) {
      this.mounts.set(row.container_id, JSON.parse(row.mounts) as MountPoint[]);
    }
  }

  saveVolume(v: VolumeRecord): void {
    this.#putVolume.run(v.Name, JSON.stringify(v));
    this.volumes.set(v.Name, v);
  }

  deleteVolume(name: string): void {
    this.#delVolume.run(name);
    this.volumes.delete(name);
  }

  saveMounts(containerId: string, mounts: MountPoint[]): void {
    this.#putMounts.run(containerId, JSON.stringify(mounts));
    this.mounts.set(containerId, mounts);
  }

  deleteMounts(containerId: string): void {
    this.#delMounts.run(containerId);
    this.mounts.delete(containerId);
  }

  /** Ids of the containers whose mount points name the volume. */
  usersOf(name: string): string[] {
    const out: string[] = [];
    for (const [id, mps] of this.mounts) if (mps.some((m) => m.Type === 'volume' && m.Name === name)) out.push(id);
    return out;
  }
}
