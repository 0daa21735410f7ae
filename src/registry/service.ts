/**
 * The RegistryService of engine/contract.ts: pull, push, login, search against any registry that
 * speaks the distribution spec, with Docker's progress messages. Credentials come with each call
 * (the client's X-Registry-Auth), as with dockerd: the daemon keeps none.
 */
import { InvalidArgument, NotFound, NotImplemented, Unauthorized, Unavailable } from '../errdefs/index.js';
import { familiarName, parseReference, type Reference } from '../images/index.js';
import type { Repo } from './blobs.js';
import type { RegistryServiceDeps } from './deps.js';
import { hostPlatform, parsePlatform } from './manifest.js';
import type { ProgressSink } from './progress.js';
import { pullOne } from './pull.js';
import { pushOne } from './push.js';
import { DOCKER_HUB_AUTH_KEY, readSmall, Registry, type AuthConfig } from './transport.js';

export interface PullRequest {
  /** As given: "nginx", "localhost:5000/app:1", "app@sha256:..". Without tag or digest: all tags. */
  ref: string;
  platform?: string | undefined;
  auth?: AuthConfig | null | undefined;
  progress: ProgressSink;
  signal?: AbortSignal | undefined;
}

export interface PushRequest {
  /** Repository name, with the tag in `tag` or in the name; neither: every tag of it. */
  ref: string;
  tag?: string | undefined;
  auth?: AuthConfig | null | undefined;
  progress: ProgressSink;
  signal?: AbortSignal | undefined;
}

export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export class RegistryService {
  readonly #deps: RegistryServiceDeps;

  constructor(deps: RegistryServiceDeps) {
    this.#deps = deps;
  }

  async pull(req: PullRequest): Promise<void> {
    const ref = parseReference(req.ref);
    const platform = parsePlatform(req.platform, hostPlatform());
    if (platform.os !== 'linux') throw new InvalidArgument(`invalid platform "${req.platform}": hako runs linux images only`);
    await this.#withEndpoints(ref.domain, req.auth ?? null, async (registry) => {
      const repo: Repo = { registry, path: ref.path, scopes: [`repository:${ref.path}:pull`] };
      const refs: Reference[] = ref.tag === null && ref.digest === null
        ? (await this.#tags(repo, req.signal)).map((tag) => ({ ...ref, tag }))
        : [ref];
      for (const one of refs) {
        await pullOne(this.#deps, repo, one, { platform, platformExplicit: Boolean(req.platform), progress: req.progress, signal: req.signal });
      }
    });
  }

  async push(req: PushRequest): Promise<void> {
    const ref = parseReference(req.tag ? `${req.ref}:${req.tag}` : req.ref);
    if (ref.digest !== null) throw new InvalidArgument(`cannot push a digest reference (${req.ref}): push by tag`);
    const name = familiarName(ref);
    let tags: string[];
    if (ref.tag !== null) {
      try {
        this.#deps.images.resolve(`${name}:${ref.tag}`);
      } catch (err) {
        if (err instanceof NotFound) throw new NotFound(`An image does not exist locally with the tag: ${name}:${ref.tag}`);
        throw err;
      }
      tags = [ref.tag];
    } else {
      tags = this.#localTags(name);
      if (tags.length === 0) throw new NotFound(`An image does not exist locally with the tag: ${name}`);
    }
    if (ref.domain === 'docker.io' && !ref.path.includes('/')) throw new InvalidArgument(`cannot push to ${name}: docker.io names need a namespace (user/${ref.path})`);
    req.progress({ status: `The push refers to repository [${ref.domain}/${ref.path}]` });
    // Pushes go to the registry itself, never to a mirror.
    const registry = this.#registry(ref.domain, req.auth ?? null);
    try {
      const repo: Repo = { registry, path: ref.path, scopes: [`repository:${ref.path}:pull,push`] };
      for (const tag of tags) {
        const { digest, size } = await pushOne(this.#deps, repo, ref, tag, {
          progress: req.progress, signal: req.signal, open: (d) => this.#deps.content.createReadStream(d, { highWaterMark: 1 << 20 }),
        });
        req.progress({ status: `${tag}: digest: ${digest} size: ${size}` });
        req.progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } });
      }
    } finally {
      registry.close();
    }
  }

  /** POST /auth: checks the credentials against the registry's /v2/ (and its token server). */
  async login(auth: AuthConfig, signal?: AbortSignal): Promise<{ Status: string; IdentityToken: string }> {
    const server = auth.serveraddress || DOCKER_HUB_AUTH_KEY;
    const host = registryHost(server);
    // As docker's login: ask the token server for a refresh token, answered as IdentityToken
    // (the CLI keeps it in config.json instead of the password).
    const registry = this.#registry(host, auth, { offlineAccess: true });
    let identityToken = '';
    try {
      if (!auth.username && !auth.auth && !auth.identitytoken && !auth.registrytoken) {
        throw new InvalidArgument('login: a username and password are required');
      }
      await registry.ping(signal);
      await registry.ensureAuth([], signal);
      // Only a token the server gave now: one the client sent in is not news to it.
      const got = registry.identityToken;
      if (got !== null && got !== auth.identitytoken) identityToken = got;
    } catch (err) {
      if (err instanceof Unauthorized) {
        throw new Unauthorized(`login attempt to ${server} failed: ${err.message.replace(/^[^:]*: /, '')}`, { cause: err });
      }
      throw err;
    } finally {
      registry.close();
    }
    return { Status: 'Login Succeeded', IdentityToken: identityToken };
  }

  /**
   * GET /images/search: the registry's v1 search endpoint (Docker Hub has one). The distribution
   * API has no search, so most private registries answer 404: that is said plainly.
   */
  async search(term: string, opts: { limit?: number; auth?: AuthConfig | null; signal?: AbortSignal } = {}): Promise<SearchResult[]> {
    if (!term) throw new InvalidArgument('search: a search term is required');
    const slash = term.indexOf('/');
    const first = slash < 0 ? '' : term.slice(0, slash);
    const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
    const host = isHost ? first : 'index.docker.io';
    const query = isHost ? term.slice(slash + 1) : term;
    const registry = this.#registry(host, opts.auth ?? null);
    try {
      const res = await registry.request(`/v1/search?q=${encodeURIComponent(query)}&n=${opts.limit ?? 25}`, { scopes: [], ...(opts.signal ? { signal: opts.signal } : {}) });
      if (res.status === 404 || res.status === 405) {
        res.body.resume();
        throw new NotImplemented(`search is not supported by the registry ${host}: it has no search endpoint (the distribution API defines none); list its repositories with GET /v2/_catalog instead`);
      }
      if (res.status !== 200) throw await registry.errorOf(res, 'GET /v1/search');
      const doc = JSON.parse(await readSmall(res.body)) as { results?: Array<Record<string, unknown>> };
      return (doc.results ?? []).slice(0, opts.limit ?? 25).map((r) => ({
        name: String(r.name ?? ''),
        description: String(r.description ?? ''),
        star_count: Number(r.star_count ?? 0),
        is_official: Boolean(r.is_official),
        is_automated: Boolean(r.is_automated),
      }));
    } finally {
      registry.close();
    }
  }

  #registry(host: string, auth: AuthConfig | null, opts: { offlineAccess?: boolean } = {}): Registry {
    return new Registry(host, auth, { insecureRegistries: this.#deps.insecureRegistries ?? [], userAgent: 'hako/0.1 (linux)', ...opts });
  }

  /** Runs `fn` against each mirror of docker.io, then the registry itself, until one works. */
  async #withEndpoints(domain: string, auth: AuthConfig | null, fn: (r: Registry) => Promise<void>): Promise<void> {
    const endpoints = domain === 'docker.io' ? [...(this.#deps.mirrors ?? []), domain] : [domain];
    let lastErr: unknown;
    for (const [i, endpoint] of endpoints.entries()) {
      const last = i === endpoints.length - 1;
      // Credentials for Docker Hub are not sent to a mirror.
      const registry = new Registry(endpoint, last ? auth : null, { insecureRegistries: this.#deps.insecureRegistries ?? [], userAgent: 'hako/0.1 (linux)' });
      try {
        await fn(registry);
        return;
      } catch (err) {
        lastErr = err;
        if (last || !(err instanceof Unavailable || err instanceof NotFound || err instanceof Unauthorized)) throw err;
        this.#deps.logger?.warn(`mirror ${endpoint} failed, trying the next endpoint: ${(err as Error).message}`);
      } finally {
        registry.close();
      }
    }
    throw lastErr;
  }

  async #tags(repo: Repo, signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = [];
    let path: string | null = `/v2/${repo.path}/tags/list?n=1000`;
    for (let pages = 0; path !== null && pages < 1000; pages++) {
      const res = await repo.registry.request(path, { scopes: repo.scopes, ...(signal ? { signal } : {}) });
      if (res.status === 404) {
        res.body.resume();
        throw new NotFound(`repository ${repo.registry.host}/${repo.path} not found: name unknown`);
      }
      if (res.status !== 200) throw await repo.registry.errorOf(res, 'GET tags/list');
      const doc = JSON.parse(await readSmall(res.body)) as { tags?: string[] | null };
      tags.push(...(doc.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(String(res.headers.link ?? ''))?.[1];
      path = link ? new URL(link, 'http://r.invalid').pathname + new URL(link, 'http://r.invalid').search : null;
    }
    if (tags.length === 0) throw new NotFound(`repository ${repo.registry.host}/${repo.path} has no tags`);
    return tags.sort();
  }

  #localTags(name: string): string[] {
    return this.#deps.images.tagsOf(name);
  }
}

/** "https://index.docker.io/v1/" -> "docker.io"; "http://localhost:5000" -> "localhost:5000". */
export function registryHost(server: string): string {
  let s = server.trim().replace(/^https?:\/\//, '');
  s = s.split('/')[0] ?? s;
  if (s === 'index.docker.io' || s === 'registry-1.docker.io' || s === 'docker.io' || s === '') return 'docker.io';
  return s;
}
