/**
 * The typed Docker Engine API client. One method per endpoint hako uses; paths are prefixed with
 * the negotiated API version (min of ours and the daemon's, from GET /_ping's Api-Version header).
 */
import type { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Transport, type RequestOptions, type Query } from './transport.js';
import type { ClientTls } from './remote.js';
import { hijack, type HijackedConnection } from './hijack.js';
import { jsonLines } from './streams.js';
import type {
  ArchiveStat, AttachOptions, ContainerCreateResponse, ContainerInspect, ContainerSummary, EventMessage, ExecInspect,
  Filters, ImageSummary, Json, LogsOptions, PingResult, WaitResponse,
} from './types.js';

export const CLIENT_API_VERSION = '1.47';
/** The oldest API version Docker's daemon still accepts; anything below is not negotiated down to. */
const MIN_API_VERSION = '1.24';

export interface ClientOptions {
  /** unix:///path/to/socket, tcp://HOST[:PORT] */
  host: string;
  /** TLS for a tcp host (./remote.ts resolveClientTls); ignored for unix sockets. */
  tls?: ClientTls;
  /** Pin the API version and skip negotiation. */
  version?: string;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function filtersQuery(filters: Filters | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  // Docker's current encoding: {"key": {"value": true}}; older daemons took {"key": ["value"]}.
  const out: Record<string, Record<string, boolean>> = {};
  for (const [k, values] of Object.entries(filters)) {
    out[k] = Object.fromEntries(values.map((v) => [v, true]));
  }
  return JSON.stringify(out);
}

const enc = encodeURIComponent;

export class Client {
  readonly host: string;
  /** What this client was made with: `createClient({ ...client.options, version })` makes a sibling. */
  readonly options: ClientOptions;
  readonly #transport: Transport;
  #version: string | undefined;
  #negotiation: Promise<string> | undefined;
  #ping: PingResult | undefined;

  constructor(opts: ClientOptions) {
    this.#transport = new Transport(opts.host, opts.tls);
    this.host = this.#transport.host;
    this.options = { ...opts };
    this.#version = opts.version;
  }

  /** The API version in use (negotiated on first call). */
  async apiVersion(): Promise<string> {
    if (this.#version) return this.#version;
    this.#negotiation ??= this.ping().then((p) => {
      let v = p.apiVersion && compareVersions(p.apiVersion, CLIENT_API_VERSION) < 0 ? p.apiVersion : CLIENT_API_VERSION;
      if (compareVersions(v, MIN_API_VERSION) < 0) v = MIN_API_VERSION;
      this.#version = v;
      return v;
    }, (err: unknown) => {
      // A daemon that was not up yet may be later (the CLI starts one); do not cache the failure.
      this.#negotiation = undefined;
      throw err;
    });
    return this.#negotiation;
  }

  async ping(signal?: AbortSignal): Promise<PingResult> {
    if (this.#ping) return this.#ping;
    const res = await this.#transport.request('/_ping', { signal });
    res.resume();
    const header = (name: string): string => String(res.headers[name.toLowerCase()] ?? '');
    this.#ping = {
      apiVersion: header('Api-Version'),
      osType: header('Ostype') || 'linux',
      experimental: header('Docker-Experimental') === 'true',
    };
    return this.#ping;
  }

  close(): void {
    this.#transport.close();
  }

  async #path(path: string): Promise<string> {
    return `/v${await this.apiVersion()}${path}`;
  }

  async request(path: string, opts?: RequestOptions): Promise<IncomingMessage> {
    return this.#transport.request(await this.#path(path), opts);
  }

  async #json<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.#transport.json<T>(await this.#path(path), opts);
  }

  async #send(path: string, opts?: RequestOptions): Promise<number> {
    return this.#transport.send(await this.#path(path), opts);
  }

  async #hijack(path: string, opts: RequestOptions): Promise<HijackedConnection> {
    return hijack(this.#transport, await this.#path(path), opts);
  }

  // --- system -------------------------------------------------------------------------------

  version(): Promise<Json> { return this.#json('/version'); }
  info(): Promise<Json> { return this.#json('/info'); }
  df(): Promise<Json> { return this.#json('/system/df'); }

  // --- containers ---------------------------------------------------------------------------

  containerCreate(body: Json, opts: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    return this.#json('/containers/create', { method: 'POST', query: { name: opts.name, platform: opts.platform }, body });
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.#json(`/containers/${enc(id)}/json`, { query: { size: opts.size || undefined } });
  }

  containerList(opts: { all?: boolean; limit?: number; size?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    return this.#json('/containers/json', {
      query: {
        all: opts.all || undefined,
        limit: opts.limit !== undefined && opts.limit > 0 ? opts.limit : undefined,
        size: opts.size || undefined,
        filters: filtersQuery(opts.filters),
      },
    });
  }

  /** Resolves with the HTTP status: 204 started, 304 already running. */
  containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<number> {
    return this.#send(`/containers/${enc(id)}/start`, { method: 'POST', query: { detachKeys: opts.detachKeys } });
  }

  containerStop(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<number> {
    return this.#send(`/containers/${enc(id)}/stop`, { method: 'POST', query: { signal: opts.signal, t: opts.timeout } });
  }

  containerRestart(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<number> {
    return this.#send(`/containers/${enc(id)}/restart`, { method: 'POST', query: { signal: opts.signal, t: opts.timeout } });
  }

  containerKill(id: string, signal?: string): Promise<number> {
    return this.#send(`/containers/${enc(id)}/kill`, { method: 'POST', query: { signal } });
  }

  /**
   * POST /containers/{id}/wait. The daemon sends the 200 head at once and the body on exit, so
   * `registered` resolves when the wait is in place (before a start that must not be missed).
   */
  containerWait(id: string, condition = 'not-running', signal?: AbortSignal): { registered: Promise<void>; result: Promise<WaitResponse> } {
    const res = this.request(`/containers/${enc(id)}/wait`, { method: 'POST', query: { condition }, signal });
    const result = res.then(async (r) => {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(c as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as WaitResponse;
    });
    return { registered: res.then(() => undefined), result };
  }

  containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<number> {
    return this.#send(`/containers/${enc(id)}`, {
      method: 'DELETE',
      query: { force: opts.force || undefined, v: opts.volumes || undefined, link: opts.link || undefined },
    });
  }

  containerRename(id: string, name: string): Promise<number> {
    return this.#send(`/containers/${enc(id)}/rename`, { method: 'POST', query: { name } });
  }

  containerPause(id: string): Promise<number> { return this.#send(`/containers/${enc(id)}/pause`, { method: 'POST' }); }
  containerUnpause(id: string): Promise<number> { return this.#send(`/containers/${enc(id)}/unpause`, { method: 'POST' }); }

  containerTop(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.#json(`/containers/${enc(id)}/top`, { query: { ps_args: psArgs } });
  }

  /** The raw log stream: multiplexed frames unless the container has a TTY. */
  containerLogs(id: string, opts: LogsOptions): Promise<IncomingMessage> {
    return this.request(`/containers/${enc(id)}/logs`, {
      signal: opts.signal,
      query: {
        follow: opts.follow || undefined,
        stdout: opts.stdout ?? true,
        stderr: opts.stderr ?? true,
        since: opts.since,
        until: opts.until,
        timestamps: opts.timestamps || undefined,
        tail: opts.tail,
        details: opts.details || undefined,
      },
    });
  }

  containerAttach(id: string, opts: AttachOptions): Promise<HijackedConnection> {
    const q: Query = {
      stream: opts.stream ?? true,
      logs: opts.logs || undefined,
      stdin: opts.stdin || undefined,
      stdout: opts.stdout || undefined,
      stderr: opts.stderr || undefined,
      detachKeys: opts.detachKeys,
    };
    return this.#hijack(`/containers/${enc(id)}/attach`, { query: q });
  }

  containerResize(id: string, height: number, width: number): Promise<number> {
    return this.#send(`/containers/${enc(id)}/resize`, { method: 'POST', query: { h: height, w: width } });
  }

  containerChanges(id: string): Promise<Array<{ Path: string; Kind: number }> | null> {
    return this.#json(`/containers/${enc(id)}/changes`);
  }

  async containerExport(id: string): Promise<Readable> {
    return this.request(`/containers/${enc(id)}/export`);
  }

  /** HEAD /containers/{id}/archive: the X-Docker-Container-Path-Stat header, base64 JSON. */
  async containerStatPath(id: string, path: string): Promise<ArchiveStat> {
    const res = await this.request(`/containers/${enc(id)}/archive`, { method: 'HEAD', query: { path } });
    res.resume();
    return decodePathStat(res);
  }

  async containerGetArchive(id: string, path: string): Promise<{ stat: ArchiveStat; tar: Readable }> {
    const res = await this.request(`/containers/${enc(id)}/archive`, { query: { path } });
    return { stat: decodePathStat(res), tar: res };
  }

  containerPutArchive(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<number> {
    return this.#send(`/containers/${enc(id)}/archive`, {
      method: 'PUT',
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir ?? true, copyUIDGID: opts.copyUIDGID || undefined },
      body: tar,
    });
  }

  containerPrune(filters?: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.#json('/containers/prune', { method: 'POST', query: { filters: filtersQuery(filters) } });
  }

  commit(opts: { container: string; repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: Json }): Promise<{ Id: string }> {
    return this.#json('/commit', {
      method: 'POST',
      query: {
        container: opts.container, repo: opts.repo, tag: opts.tag, comment: opts.comment, author: opts.author,
        changes: opts.changes, pause: opts.pause ?? true,
      },
      body: opts.config ?? {},
    });
  }

  // --- exec ---------------------------------------------------------------------------------

  execCreate(id: string, body: Json): Promise<{ Id: string }> {
    return this.#json(`/containers/${enc(id)}/exec`, { method: 'POST', body });
  }

  /** Attached start: the hijacked connection. */
  execStartAttached(execId: string, body: { Tty?: boolean; ConsoleSize?: [number, number] }): Promise<HijackedConnection> {
    return this.#hijack(`/exec/${enc(execId)}/start`, { body: { Detach: false, ...body } });
  }

  execStartDetached(execId: string, body: { Tty?: boolean } = {}): Promise<number> {
    return this.#send(`/exec/${enc(execId)}/start`, { method: 'POST', body: { Detach: true, ...body } });
  }

  execResize(execId: string, height: number, width: number): Promise<number> {
    return this.#send(`/exec/${enc(execId)}/resize`, { method: 'POST', query: { h: height, w: width } });
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.#json(`/exec/${enc(execId)}/json`);
  }

  // --- images -------------------------------------------------------------------------------

  imageList(opts: { all?: boolean; filters?: Filters; digests?: boolean } = {}): Promise<ImageSummary[]> {
    return this.#json('/images/json', {
      query: { all: opts.all || undefined, filters: filtersQuery(opts.filters), digests: opts.digests || undefined },
    });
  }

  imageInspect(ref: string): Promise<Json> {
    return this.#json(`/images/${enc(ref)}/json`);
  }

  imageHistory(ref: string): Promise<Json[]> {
    return this.#json(`/images/${enc(ref)}/history`);
  }

  imageTag(ref: string, repo: string, tag?: string): Promise<number> {
    return this.#send(`/images/${enc(ref)}/tag`, { method: 'POST', query: { repo, tag } });
  }

  imageRemove(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
    return this.#json(`/images/${enc(ref)}`, {
      method: 'DELETE', query: { force: opts.force || undefined, noprune: opts.noprune || undefined },
    });
  }

  /** POST /images/create?fromSrc=- (the body is a rootfs tarball) or fromSrc=URL; answers a JSON progress stream. */
  imageImport(tar: Readable | null, opts: { repo?: string; tag?: string; message?: string; changes?: string[]; platform?: string; fromSrc?: string } = {}): Promise<IncomingMessage> {
    return this.request('/images/create', {
      method: 'POST',
      query: { fromSrc: opts.fromSrc ?? '-', repo: opts.repo, tag: opts.tag, message: opts.message, changes: opts.changes, platform: opts.platform },
      body: tar ?? undefined,
    });
  }

  /** POST /images/create?fromImage=: pull; answers a JSON progress stream. */
  imagePull(image: string, tag?: string, opts: { platform?: string; signal?: AbortSignal; registryAuth?: string } = {}): Promise<IncomingMessage> {
    return this.request('/images/create', {
      method: 'POST', query: { fromImage: image, tag, platform: opts.platform }, signal: opts.signal,
      ...(opts.registryAuth ? { headers: { 'X-Registry-Auth': opts.registryAuth } } : {}),
    });
  }

  /** POST /images/{name}/push; `registryAuth` is the X-Registry-Auth value (base64url JSON). Answers a JSON progress stream. */
  imagePush(name: string, opts: { tag?: string; registryAuth?: string; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    return this.request(`/images/${enc(name)}/push`, {
      method: 'POST', query: { tag: opts.tag }, signal: opts.signal,
      headers: { 'X-Registry-Auth': opts.registryAuth ?? 'e30=' },
    });
  }

  /** POST /auth: the daemon checks the credentials against the registry. */
  registryLogin(auth: { username?: string; password?: string; serveraddress?: string; identitytoken?: string }): Promise<{ Status: string; IdentityToken?: string }> {
    return this.#json('/auth', { method: 'POST', body: auth });
  }

  imageSearch(term: string, opts: { limit?: number; registryAuth?: string } = {}): Promise<Array<{ name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }>> {
    return this.#json('/images/search', { query: { term, limit: opts.limit }, ...(opts.registryAuth ? { headers: { 'X-Registry-Auth': opts.registryAuth } } : {}) });
  }

  imageLoad(tar: Readable, opts: { quiet?: boolean } = {}): Promise<IncomingMessage> {
    return this.request('/images/load', { method: 'POST', query: { quiet: opts.quiet || undefined }, body: tar });
  }

  /** POST /build (classic builder): `context` is the tar; answers a JSON progress stream. */
  imageBuild(context: Readable, opts: {
    tags?: string[]; dockerfile?: string; buildArgs?: Record<string, string | null>; target?: string; labels?: Record<string, string>;
    noCache?: boolean; quiet?: boolean; pull?: boolean; networkMode?: string; signal?: AbortSignal;
    /** `--cache-from` (docker's `cachefrom`); `--no-cache-filter` (hako's `nocachefilter`). */
    cacheFrom?: string[]; noCacheFilter?: string[];
    /** `--secret`: sent in hako's own X-Hako-Build-Secrets header (docker's classic /build has none). */
    secrets?: Record<string, Buffer>;
    /** Ask hakod for `{id: "hako.build.step", aux}` step events (hako's TTY display). */
    stepEvents?: boolean;
  } = {}): Promise<IncomingMessage> {
    const secrets: Record<string, string> = opts.secrets && Object.keys(opts.secrets).length > 0
      ? { 'X-Hako-Build-Secrets': Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(opts.secrets).map(([k, v]) => [k, v.toString('base64')])))).toString('base64') }
      : {};
    return this.request('/build', {
      method: 'POST',
      query: {
        t: opts.tags && opts.tags.length > 0 ? opts.tags : undefined,
        dockerfile: opts.dockerfile,
        buildargs: opts.buildArgs && Object.keys(opts.buildArgs).length > 0 ? JSON.stringify(opts.buildArgs) : undefined,
        labels: opts.labels && Object.keys(opts.labels).length > 0 ? JSON.stringify(opts.labels) : undefined,
        target: opts.target,
        nocache: opts.noCache || undefined,
        q: opts.quiet || undefined,
        pull: opts.pull || undefined,
        networkmode: opts.networkMode,
        hakosteps: opts.stepEvents || undefined,
        cachefrom: opts.cacheFrom && opts.cacheFrom.length > 0 ? JSON.stringify(opts.cacheFrom) : undefined,
        nocachefilter: opts.noCacheFilter && opts.noCacheFilter.length > 0 ? JSON.stringify(opts.noCacheFilter) : undefined,
      },
      headers: { 'Content-Type': 'application/x-tar', ...secrets },
      body: context,
      signal: opts.signal,
    });
  }

  /** POST /hako/images/bootstrap (hako only): a Debian base image by debootstrap; answers a JSON progress stream. */
  imageBootstrap(opts: { repo: string; tag?: string; suite?: string; variant?: string; include?: string[]; mirror?: string; signal?: AbortSignal }): Promise<IncomingMessage> {
    return this.request('/hako/images/bootstrap', {
      method: 'POST',
      query: {
        repo: opts.repo, tag: opts.tag, suite: opts.suite, variant: opts.variant, mirror: opts.mirror,
        include: opts.include && opts.include.length > 0 ? opts.include : undefined,
      },
      signal: opts.signal,
    });
  }

  imageSave(names: string[]): Promise<IncomingMessage> {
    return this.request('/images/get', { query: { names } });
  }

  imagePrune(filters?: Filters): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }> {
    return this.#json('/images/prune', { method: 'POST', query: { filters: filtersQuery(filters) } });
  }

  /** POST /build/prune: the build cache (entries and cache-mount directories). */
  buildPrune(opts: { all?: boolean; keepStorage?: number; filters?: Filters } = {}): Promise<{ CachesDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.#json('/build/prune', { method: 'POST', query: { all: opts.all || undefined, 'keep-storage': opts.keepStorage || undefined, filters: filtersQuery(opts.filters) } });
  }

  // --- volumes, stats, resource updates (issue #3) ----------------------------------------------

  volumeList(filters?: Filters): Promise<{ Volumes: Json[] | null; Warnings: string[] | null }> {
    return this.#json('/volumes', { query: { filters: filtersQuery(filters) } });
  }

  volumeCreate(body: { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }): Promise<Json> {
    return this.#json('/volumes/create', { method: 'POST', body });
  }

  volumeInspect(name: string): Promise<Json> {
    return this.#json(`/volumes/${enc(name)}`);
  }

  volumeRemove(name: string, opts: { force?: boolean } = {}): Promise<number> {
    return this.#send(`/volumes/${enc(name)}`, { method: 'DELETE', query: { force: opts.force || undefined } });
  }

  volumePrune(filters?: Filters): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    return this.#json('/volumes/prune', { method: 'POST', query: { filters: filtersQuery(filters) } });
  }

  // --- networks (issue #5) -----------------------------------------------------------------------

  networkList(filters?: Filters): Promise<Json[]> {
    return this.#json('/networks', { query: { filters: filtersQuery(filters) } });
  }

  networkCreate(body: Json): Promise<{ Id: string; Warning?: string }> {
    return this.#json('/networks/create', { method: 'POST', body });
  }

  networkInspect(ref: string, opts: { verbose?: boolean } = {}): Promise<Json> {
    return this.#json(`/networks/${enc(ref)}`, { query: { verbose: opts.verbose || undefined } });
  }

  networkRemove(ref: string): Promise<number> {
    return this.#send(`/networks/${enc(ref)}`, { method: 'DELETE' });
  }

  networkConnect(ref: string, body: { Container: string; EndpointConfig?: Json }): Promise<number> {
    return this.#send(`/networks/${enc(ref)}/connect`, { method: 'POST', body });
  }

  networkDisconnect(ref: string, body: { Container: string; Force?: boolean }): Promise<number> {
    return this.#send(`/networks/${enc(ref)}/disconnect`, { method: 'POST', body });
  }

  networkPrune(filters?: Filters): Promise<{ NetworksDeleted: string[] | null }> {
    return this.#json('/networks/prune', { method: 'POST', query: { filters: filtersQuery(filters) } });
  }

  /** GET /containers/{id}/stats: a stream of JSON objects (one per second), or one with stream=false. */
  containerStats(id: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): Promise<IncomingMessage> {
    return this.request(`/containers/${enc(id)}/stats`, {
      query: { stream: opts.stream, 'one-shot': opts.oneShot || undefined }, signal: opts.signal,
    });
  }

  containerUpdate(id: string, body: Json): Promise<{ Warnings: string[] | null }> {
    return this.#json(`/containers/${enc(id)}/update`, { method: 'POST', body });
  }

  // --- events -------------------------------------------------------------------------------

  /**
   * GET /events: resolves once the daemon has answered (hakod subscribes before its headers go
   * out, so nothing that happens afterwards is missed), then yields each event until the stream
   * ends (`until`) or `signal` aborts (the iteration then throws an AbortError).
   */
  async events(opts: { since?: string; until?: string; filters?: Filters; signal?: AbortSignal } = {}): Promise<AsyncGenerator<EventMessage>> {
    const res = await this.request('/events', {
      query: { since: opts.since || undefined, until: opts.until || undefined, filters: filtersQuery(opts.filters) }, signal: opts.signal,
    });
    return jsonLines<EventMessage>(res);
  }
}

function decodePathStat(res: IncomingMessage): ArchiveStat {
  const raw = res.headers['x-docker-container-path-stat'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return { name: '', size: 0, mode: 0, mtime: '', linkTarget: '' };
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as ArchiveStat;
}

export function createClient(opts: ClientOptions): Client {
  return new Client(opts);
}
