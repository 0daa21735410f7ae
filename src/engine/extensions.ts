/**
 * How capabilities that ride on a container's life (networks, volumes, health checks, restart
 * policies) plug into the container service without editing it: each is a ContainerExtension,
 * called at the same points of every container's life, in registration order (teardown in
 * reverse). daemon/wire.ts registers them.
 */
import type { RuntimeSettings } from '../runtime/index.js';
import type { Json } from './contract.js';
import type { ContainerRecord } from './containers/record.js';

export interface ContainerExtension {
  readonly name: string;
  /**
   * At create, after the record is built and before it is saved: validate the options this
   * extension owns (InvalidArgument names the bad one) and fill in their defaults. Nothing may be
   * allocated here that `removed` would not release: create fails as a whole. `body` is the
   * create request (NetworkingConfig ...).
   */
  create?(rec: ContainerRecord, body?: Json): Promise<void> | void;
  /**
   * Before the process is created: contribute to its runtime settings (a network namespace path,
   * mounts, /etc/hosts content). A throw fails the start; `stopped` is then called to undo.
   */
  prepare?(rec: ContainerRecord, settings: RuntimeSettings): Promise<void> | void;
  /**
   * The monitor is spawned and runc is creating the process (tens of ms): start here what may run
   * beside that and need not hold up the spawn (a network namespace's configuration). Must not
   * throw: report failures from `beforeStart`.
   */
  creating?(rec: ContainerRecord): void;
  /**
   * After runc created the process, before it runs: finish what `prepare` or `creating` left
   * running beside runc's work. A throw fails the start as in prepare.
   */
  beforeStart?(rec: ContainerRecord): Promise<void> | void;
  /** After the process runs. */
  started?(rec: ContainerRecord): Promise<void> | void;
  /** After the process exited (or a start failed after prepare): release per-run resources. */
  stopped?(rec: ContainerRecord): Promise<void> | void;
  /** The container is being removed; `volumes` is `rm -v`. */
  removed?(rec: ContainerRecord, opts: { volumes: boolean }): Promise<void> | void;
  /** Adds what this extension owns to `inspect` (NetworkSettings, Mounts, State.Health ...). */
  inspect?(rec: ContainerRecord, view: Json): void;
  /** Adds to a `ps` row (Ports, Mounts, the "(healthy)" status suffix ...). */
  summary?(rec: ContainerRecord, row: Json): void;
  /** hakod is shutting down. */
  close?(): Promise<void> | void;
  /**
   * Called once, when the container service is built (before restore): what this extension may
   * do to containers on the engine's behalf (health-check actions, restart policies).
   */
  bindControl?(control: ContainerControl): void;
  /**
   * After restore, for every container hakod found: running ones were adopted, the others have
   * their exit recorded. A restart policy brings back the ones that should come back.
   */
  restored?(rec: ContainerRecord): Promise<void> | void;
  /** The POST /containers/{id}/update body keys this extension owns (RestartPolicy ...). */
  readonly updateKeys?: readonly string[];
  /** Validates and applies this extension's part of an update body (the record is saved after). */
  update?(rec: ContainerRecord, body: Json): void;
  /**
   * Host directories or files this extension mounts into the container (bind mounts, volumes),
   * so `cp`, `stat` and archive requests on those paths reach them as docker's do.
   */
  mountPoints?(rec: ContainerRecord): Array<{ destination: string; source: string }>;
  /** `ps --filter` keys this extension answers for (health ...): false drops the container. */
  matches?(rec: ContainerRecord, filters: Record<string, string[]>): boolean;
}

/**
 * What an extension may do to containers for the engine, not for a user: a stop or kill through
 * here does not count as the user's (a restart policy still applies), a start keeps RestartCount.
 */
export interface ContainerControl {
  find(ref: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  /** Starts a stopped container (restart policy); ManuallyStopped and RestartCount are kept. */
  startAsEngine(id: string): Promise<void>;
  /** Stop signal, then SIGKILL after the timeout (default: the container's). byUser marks ManuallyStopped. */
  stopAsEngine(id: string, opts?: { timeout?: number; byUser?: boolean }): Promise<void>;
  killAsEngine(id: string, signal: string): Promise<void>;
  save(rec: ContainerRecord): void;
  publish(rec: ContainerRecord, action: string, extra?: Record<string, string>): void;
  /** The running container's OCI bundle (its config.json holds the process spec for execs). */
  bundleDir(rec: ContainerRecord): string;
  rootfsDir(rec: ContainerRecord): string;
}

/** Docker's event message (GET /events). */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

type Listener = (e: EngineEvent) => void;

/**
 * Every action the engine takes is published here. Subscribers (the /events API, supervision)
 * get events in order; a bounded ring keeps recent ones for `--since`.
 */
export class EventBus {
  #listeners = new Set<Listener>();
  #ring: EngineEvent[] = [];
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  publish(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    const nowNs = process.hrtime.bigint() - hrtimeAtEpoch + BigInt(epochAtStartMs) * 1_000_000n;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    this.#ring.push(event);
    if (this.#ring.length > this.#capacity) this.#ring.shift();
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // One broken subscriber must not stop the others or the engine.
      }
    }
    return event;
  }

  /** Past events still in the ring, oldest first. */
  recent(): EngineEvent[] {
    return [...this.#ring];
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const epochAtStartMs = Date.now();
const hrtimeAtEpoch = process.hrtime.bigint();
