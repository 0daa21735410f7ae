/**
 * The contract between `api/` (HTTP) and `engine/` (domain services). Inputs and outputs are the
 * Docker Engine API's own JSON shapes (../shared/reference/docker-engine-api/v1.47.yaml), so the
 * HTTP layer only parses query strings and bodies, calls one method, and serialises the answer.
 * Every method throws errdefs errors (NotFound 404, Conflict 409, InvalidArgument 400,
 * NotModified 304, ...); api/ translates them to Docker's `{"message": ...}` bodies.
 */
import type { Readable, Writable } from 'node:stream';
import type { EngineEvent } from './extensions.js';

export type Json = Record<string, unknown>;
/** Docker's `filters` query parameter, decoded: {"status": ["running"], "label": ["a=b"]}. */
export type Filters = Record<string, string[]>;

export type StdStream = 'stdin' | 'stdout' | 'stderr';

/** One chunk of container output, as the process wrote it (binary-safe, partial lines kept). */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
  /** When the chunk was written (logs); absent for live attach output. */
  time?: Date;
}

/**
 * A live connection to a container's or exec's stdio. `output` ends when the process exits or the
 * session is closed. `input` is present when stdin was asked for and the process has stdin open;
 * ending it closes the process's stdin (unless the container keeps it open).
 */
export interface StdioSession {
  tty: boolean;
  output: AsyncIterable<OutputChunk>;
  input: Writable | null;
  /** Detach from the process without affecting it. */
  close(): void;
}

export interface LogOptions {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (fractional allowed); 0 = no bound. */
  since: number;
  until: number;
  timestamps: boolean;
  /** Number of lines from the end, or 'all'. */
  tail: number | 'all';
  details: boolean;
  signal?: AbortSignal;
}

export interface AttachOptions {
  stream: boolean;
  logs: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
  signal?: AbortSignal;
}

export interface ArchiveStat {
  name: string;
  size: number;
  mode: number; // Go os.FileMode bits, as Docker's X-Docker-Container-Path-Stat
  mtime: string;
  linkTarget: string;
}

export interface ContainerService {
  /**
   * `scratch`: an engine-internal container whose changes are never kept as a durable container
   * (a build step's: its upper dir becomes a layer, as unsynced as an unpacked one): its rootfs
   * is mounted volatile. Not reachable from the API.
   */
  create(body: Json, opts: { name?: string; platform?: string; scratch?: boolean }): Promise<{ Id: string; Warnings: string[] }>;
  inspect(ref: string, opts?: { size?: boolean }): Promise<Json>;
  list(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }): Promise<Json[]>;
  start(ref: string, opts?: { detachKeys?: string }): Promise<void>;
  stop(ref: string, opts?: { signal?: string; timeout?: number }): Promise<void>;
  restart(ref: string, opts?: { signal?: string; timeout?: number }): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  /** condition: 'not-running' (default) | 'next-exit' | 'removed'. Resolves when reached. */
  wait(ref: string, condition: string, signal?: AbortSignal): Promise<{ StatusCode: number; Error?: { Message: string } | null }>;
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean; link?: boolean }): Promise<void>;
  rename(ref: string, newName: string): Promise<void>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  top(ref: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  logs(ref: string, opts: LogOptions): Promise<{ tty: boolean; entries: AsyncIterable<OutputChunk> }>;
  attach(ref: string, opts: AttachOptions): Promise<StdioSession>;
  resize(ref: string, height: number, width: number): Promise<void>;
  changes(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>>;
  export(ref: string): Promise<Readable>;
  statPath(ref: string, path: string): Promise<ArchiveStat>;
  getArchive(ref: string, path: string): Promise<{ stat: ArchiveStat; tar: Readable }>;
  putArchive(ref: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void>;
  prune(filters: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  commit(ref: string, opts: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: Json }): Promise<{ Id: string }>;
}

export interface ExecService {
  create(containerRef: string, body: Json): Promise<{ Id: string }>;
  /** Detach: true starts it in the background and resolves at once with null. */
  start(execId: string, body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }): Promise<StdioSession | null>;
  resize(execId: string, height: number, width: number): Promise<void>;
  inspect(execId: string): Promise<Json>;
}

export interface ImageService {
  list(opts: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<Json[]>;
  inspect(ref: string): Promise<Json>;
  history(ref: string): Promise<Json[]>;
  tag(ref: string, repo: string, tag?: string): Promise<void>;
  /** Returns Docker's [{Untagged}, {Deleted}] list. */
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<Json[]>;
  /** POST /images/create?fromSrc=-: a rootfs tarball becomes a one-layer image. */
  importRootfs(tar: Readable, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string }): Promise<{ Id: string }>;
  /** POST /images/load: docker-archive or OCI layout tarball; resolves with the progress lines ("Loaded image: x"). */
  load(tar: Readable, opts: { quiet?: boolean }): Promise<string[]>;
  /** GET /images/get?names=..: one archive with every named image. */
  save(refs: string[]): Promise<Readable>;
  prune(filters: Filters): Promise<{ ImagesDeleted: Json[]; SpaceReclaimed: number }>;
  /** GET /system/df's images: summaries with SharedSize, and the size of all distinct layers. */
  diskUsage?(): Promise<{ LayersSize: number; Images: Json[] }>;
}

export interface SystemService {
  version(): Json;
  info(): Promise<Json>;
  /** Disk usage (GET /system/df). */
  df(): Promise<Json>;
}

/** Networks (GET/POST/DELETE /networks...), Docker's Network shape. */
export interface NetworkService {
  list(filters?: Filters): Promise<Json[]>;
  inspect(ref: string): Promise<Json>;
  /** Docker's NetworkCreateRequest: Name, Driver, Internal, IPAM.Config, Options, Labels. */
  create(body: Json): Promise<{ Id: string; Warning: string }>;
  remove(ref: string): Promise<void>;
  /** body: {Container, EndpointConfig: {IPAMConfig: {IPv4Address}, Aliases, MacAddress}}. */
  connect(ref: string, body: Json): Promise<void>;
  /** body: {Container, Force}. */
  disconnect(ref: string, body: Json): Promise<void>;
  prune(filters?: Filters): Promise<{ NetworksDeleted: string[] }>;
}

/** Named and anonymous volumes (GET/POST/DELETE /volumes...), Docker's Volume shape. */
export interface VolumeService {
  list(opts: { filters?: Filters }): Promise<{ Volumes: Json[]; Warnings: string[] }>;
  /** Body: {Name, Driver, DriverOpts, Labels}; returns the existing volume when the name is taken. */
  create(body: Json): Promise<Json>;
  inspect(name: string): Promise<Json>;
  /** Conflict while a container refers to it; force ignores a missing volume. */
  remove(name: string, opts?: { force?: boolean }): Promise<void>;
  /** Anonymous unused volumes; with filter all=true every unused one. */
  prune(filters: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
  /** For /system/df: every volume in Docker's shape with UsageData {Size, RefCount}. */
  usage?(): Promise<Json[]>;
}

/**
 * The engine's event stream (GET /events): the bounded ring of recent events for `since`, and
 * live ones from subscription on. extensions.ts's EventBus is the implementation.
 */
export interface EventSource {
  recent(): EngineEvent[];
  subscribe(listener: (e: EngineEvent) => void): () => void;
}

/** Registry credentials as the docker CLI sends them (X-Registry-Auth header, POST /auth body). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64("user:password") */
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Pull, push, login, search (POST /images/create?fromImage=, /images/{name}/push, /auth, GET /images/search). */
export interface RegistryClientService {
  /** Reports Docker's JSON progress messages to `progress`; a name without tag or digest pulls every tag. */
  pull(ref: string, opts: { platform?: string; auth?: RegistryAuth | null; progress: (msg: Json) => void; signal?: AbortSignal }): Promise<void>;
  /** `tag` empty and none in `ref`: every local tag of the repository. */
  push(ref: string, opts: { tag?: string; auth?: RegistryAuth | null; progress: (msg: Json) => void; signal?: AbortSignal }): Promise<void>;
  login(auth: RegistryAuth): Promise<{ Status: string; IdentityToken: string }>;
  search(term: string, opts: { limit?: number; auth?: RegistryAuth | null }): Promise<Json[]>;
}

/** GET /containers/{id}/stats: samples in Docker's ContainerStatsResponse shape. */
export interface StatsService {
  /**
   * NotFound before anything is sent when the container does not exist. stream: one sample a
   * second until `signal` aborts or the container is removed; otherwise one sample (one-shot:
   * at once, without precpu_stats; else after a second, with them).
   */
  container(ref: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): Promise<AsyncIterable<Json>>;
}

/** POST /build: a Dockerfile build from a tar context (Docker's legacy builder protocol). */
export interface BuildService {
  /**
   * Reports Docker's JSON progress messages ({stream}, {aux: {ID}}) to `progress`; returns the
   * image id. Errors are thrown (api/ sends them as errorDetail); nothing is tagged on failure.
   */
  build(context: Readable, opts: {
    dockerfile?: string; tags?: string[]; buildArgs?: Record<string, string | null>; target?: string;
    labels?: Record<string, string>; noCache?: boolean; quiet?: boolean; pull?: boolean; networkMode?: string;
    secrets?: Record<string, Buffer>; signal?: AbortSignal;
    /** --cache-from images (history as cache source); --no-cache-filter stages. */
    cacheFrom?: string[]; noCacheFilter?: string[];
    /** Also send `{id: "hako.build.step", aux}` step events for a display (src/archive/step-events.ts). */
    stepEvents?: boolean;
  }, progress: (msg: Json) => void): Promise<string>;
  /** POST /build/prune: all (not only what no tagged image is built on), until (a Go duration back from now, or a timestamp), keepStorage (bytes). */
  prune?(opts: { all?: boolean; until?: string; keepStorage?: number }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }>;
}

/** POST /hako/images/bootstrap (hako's own): a Debian base image made by debootstrap (src/build/bootstrap.ts). */
export interface BootstrapService {
  /** Reports each progress line to `progress`; returns the image id. */
  bootstrap(opts: {
    repo: string; tag?: string; suite?: string; variant?: string; include?: string[]; mirror?: string; signal?: AbortSignal;
  }, progress: (line: string) => void): Promise<string>;
}

/** Everything api/ needs; one instance, built by daemon/'s composition root. */
export interface Engine {
  containers: ContainerService;
  exec: ExecService;
  images: ImageService;
  system: SystemService;
  events: EventSource;
  volumes: VolumeService;
  stats: StatsService;
  networks: NetworkService;
  registry: RegistryClientService;
  /** Set by the composition root when the builder is wired (src/build/). */
  build?: BuildService;
  /** Set by the composition root (src/build/bootstrap.ts). */
  bootstrap?: BootstrapService;
}
