/**
 * The volume service behind /volumes: create, list (filters), inspect, remove (refused while a
 * container uses the volume), prune. The container extension (extension.ts) uses the same
 * instance to create named and anonymous volumes and to count their users.
 */
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound } from '../errdefs/index.js';
import type { EventBus } from '../engine/extensions.js';
import { checkVolumeName } from './mount-spec.js';
import { LocalDriver, validateLocalOptions } from './local-driver.js';
import type { VolumeRecord, VolumeStore } from './store.js';

type Json = Record<string, unknown>;
type Filters = Record<string, string[]>;

/** Docker (23+) marks the volumes it makes for VOLUME and `-v /path` with this label. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const LIST_FILTERS = new Set(['name', 'driver', 'label', 'dangling']);
const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

export class Volumes {
  readonly #store: VolumeStore;
  readonly #driver: LocalDriver;
  readonly #events: EventBus | undefined;

  constructor(store: VolumeStore, driver: LocalDriver, events?: EventBus) {
    this.#store = store;
    this.#driver = driver;
    this.#events = events;
  }

  get driver(): LocalDriver {
    return this.#driver;
  }

  /** The record of an existing volume; NotFound names it. */
  record(name: string): VolumeRecord {
    const v = this.#store.volumes.get(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  find(name: string): VolumeRecord | undefined {
    return this.#store.volumes.get(name);
  }

  #view(v: VolumeRecord): Json {
    return {
      CreatedAt: v.CreatedAt,
      Driver: v.Driver,
      Labels: v.Labels,
      Mountpoint: this.#driver.dataDir(v.Name),
      Name: v.Name,
      Options: v.Options,
      Scope: 'local',
    };
  }

  /** Creates the volume, or returns the existing one of that name (as docker does). */
  async createVolume(opts: { name?: string; driver?: string; labels?: Record<string, string>; options?: Record<string, string> | null; anonymous?: boolean }): Promise<VolumeRecord> {
    const driver = opts.driver || 'local';
    const name = opts.name || randomBytes(32).toString('hex');
    checkVolumeName(name);
    if (driver !== 'local') throw new NotFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found (hako has the local driver only)`);
    for (const [k, v] of Object.entries(opts.labels ?? {})) {
      if (typeof v !== 'string') throw new InvalidArgument(`create ${name}: label "${k}" must be a string`);
    }
    const options = opts.options && Object.keys(opts.options).length > 0 ? opts.options : opts.options ?? null;
    validateLocalOptions(name, options ?? {});
    const existing = this.#store.volumes.get(name);
    if (existing) return existing;
    const labels = { ...(opts.labels ?? {}) };
    if (opts.anonymous) labels[ANONYMOUS_LABEL] = '';
    const rec: VolumeRecord = {
      Name: name, Driver: 'local', CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Labels: labels, Options: options,
    };
    await this.#driver.create(name);
    try {
      this.#store.saveVolume(rec);
    } catch (err) {
      await this.#driver.remove(name);
      throw err;
    }
    this.#events?.publish('volume', 'create', name, { driver: 'local' });
    return rec;
  }

  async create(body: Json): Promise<Json> {
    const str = (k: string): string | undefined => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
    const map = (k: string): Record<string, string> | null => {
      const v = body[k];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgument(`invalid volume config: ${k} must be an object of strings`);
      return v as Record<string, string>;
    };
    if (body.ClusterVolumeSpec) throw new InvalidArgument('cluster volumes need swarm mode, which hako does not have');
    const rec = await this.createVolume({ name: str('Name'), driver: str('Driver'), labels: map('Labels') ?? {}, options: map('DriverOpts') });
    return this.#view(rec);
  }

  async inspect(name: string): Promise<Json> {
    return this.#view(this.record(name));
  }

  async list(opts: { filters?: Filters } = {}): Promise<{ Volumes: Json[]; Warnings: string[] }> {
    const f = opts.filters ?? {};
    for (const k of Object.keys(f)) if (!LIST_FILTERS.has(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    const dangling = (f.dangling ?? []).map((d) => {
      if (['true', '1'].includes(d)) return true;
      if (['false', '0'].includes(d)) return false;
      throw new InvalidArgument(`invalid filter 'dangling=${d}'`);
    });
    const out: Json[] = [];
    for (const v of [...this.#store.volumes.values()].sort((a, b) => a.Name.localeCompare(b.Name))) {
      if (f.name && !f.name.some((n) => v.Name.includes(n))) continue;
      if (f.driver && !f.driver.includes(v.Driver)) continue;
      if (f.label && !f.label.every((l) => labelMatches(v.Labels, l))) continue;
      if (dangling.length && !dangling.includes(this.#store.usersOf(v.Name).length === 0)) continue;
      out.push(this.#view(v));
    }
    return { Volumes: out, Warnings: [] };
  }

  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    const v = this.#store.volumes.get(name);
    if (!v) {
      if (opts.force) return;
      throw new NotFound(`get ${name}: no such volume`);
    }
    const users = this.#store.usersOf(name);
    if (users.length > 0) throw new Conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.#store.deleteVolume(name);
    await this.#driver.remove(name);
    this.#events?.publish('volume', 'destroy', name, { driver: 'local' });
  }

  async prune(filters: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    for (const k of Object.keys(filters)) if (!PRUNE_FILTERS.has(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    const all = (filters.all ?? []).some((a) => a === 'true' || a === '1');
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of [...this.#store.volumes.values()]) {
      if (!all && !(ANONYMOUS_LABEL in v.Labels)) continue;
      if (!(filters.label ?? []).every((l) => labelMatches(v.Labels, l))) continue;
      if ((filters['label!'] ?? []).some((l) => labelMatches(v.Labels, l))) continue;
      if (this.#store.usersOf(v.Name).length > 0) continue;
      const size = await this.#driver.size(v.Name);
      await this.remove(v.Name);
      deleted.push(v.Name);
      reclaimed += Math.max(size, 0);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  /** For /system/df: each volume with UsageData. */
  async usage(): Promise<Json[]> {
    const out: Json[] = [];
    for (const v of this.#store.volumes.values()) {
      out.push({ ...this.#view(v), UsageData: { Size: await this.#driver.size(v.Name), RefCount: this.#store.usersOf(v.Name).length } });
    }
    return out;
  }
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq < 0 ? filter in labels : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}
