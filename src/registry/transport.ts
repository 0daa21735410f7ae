/**
 * HTTP to one registry: which scheme and TLS settings to use, redirects, and the two
 * authentication schemes registries answer a 401 with (distribution's token spec, "Bearer
 * realm,service,scope", and Basic). Requests go through node:http(s) so bodies stay streams in
 * both directions and a blob can be resumed with a Range header.
 *
 * https is the default. Plain http is tried only for localhost, 127.0.0.0/8, ::1 and registries
 * the daemon lists under "insecure-registries" (hostnames or CIDRs), as dockerd does: https first,
 * http when the TLS handshake fails; insecure registries also skip certificate verification.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { Forbidden, InvalidArgument, NotFound, Unauthorized, Unavailable, type HakoError } from '../errdefs/index.js';

/** Credentials for one registry, in the shape of Docker's AuthConfig (X-Registry-Auth, POST /auth). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as in ~/.docker/config.json. */
  auth?: string;
  serveraddress?: string;
  /** An OAuth refresh token from an earlier login. */
  identitytoken?: string;
  /** A bearer token to send as is. */
  registrytoken?: string;
}

export interface TransportOptions {
  /** Hosts ("myreg:5000", "10.0.0.0/8") where http and unverified TLS are allowed. */
  insecureRegistries?: readonly string[];
  /** Idle time after which a stalled connection is given up (default 60 s). */
  idleTimeoutMs?: number;
  userAgent?: string;
  /**
   * Ask the token server for a refresh token (docker's login: `offline_token=true&client_id=docker`
   * on the GET, `access_type=offline` on an OAuth2 POST); `identityToken` then holds it.
   */
  offlineAccess?: boolean;
}

/** The client id docker sends to token servers (distribution's registry/client/auth). */
const CLIENT_ID = 'docker';

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A stream body cannot be resent: auth is settled before (see Registry.ensureAuth). */
  body?: Buffer | Readable;
  signal?: AbortSignal | undefined;
  /** Scopes the request needs ("repository:library/nginx:pull"). */
  scopes: readonly string[];
}

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** The registry "docker.io" stands for, and the key Docker's config.json uses for it. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

const TLS_FAILURES = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ECONNRESET', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/** One registry endpoint (a host, or a mirror's URL) with its credentials and tokens. */
export class Registry {
  /** "localhost:5000"; what errors name. */
  readonly host: string;
  readonly #base: URL | null;
  readonly #insecure: boolean;
  readonly #auth: AuthConfig | null;
  readonly #opts: TransportOptions;
  #scheme: 'https:' | 'http:' | null = null;
  #challenge: Challenge | null | undefined;
  readonly #tokens = new Map<string, { token: string; expires: number }>();
  readonly #agents: { http: http.Agent; https: https.Agent };
  #refreshToken: string | null = null;

  /** The refresh token a token server gave (an OAuth2 login): what docker keeps as identitytoken. */
  get identityToken(): string | null {
    return this.#refreshToken;
  }

  /** `endpoint` is a host[:port] or, for mirrors, a URL. */
  constructor(endpoint: string, auth: AuthConfig | null, opts: TransportOptions = {}) {
    this.#opts = opts;
    this.#auth = auth && (auth.username || auth.password || auth.auth || auth.identitytoken || auth.registrytoken) ? auth : null;
    this.#refreshToken = this.#auth?.identitytoken || null;
    if (/^https?:\/\//.test(endpoint)) {
      this.#base = new URL(endpoint.replace(/\/+$/, ''));
      this.host = this.#base.host;
      this.#scheme = this.#base.protocol as 'https:' | 'http:';
    } else {
      this.#base = null;
      this.host = endpoint === 'docker.io' ? DOCKER_HUB_REGISTRY : endpoint;
    }
    this.#insecure = isInsecure(this.host, opts.insecureRegistries ?? []);
    this.#agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !this.#insecure }),
    };
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  /** GET /v2/: does the registry answer, and with which auth challenge? Throws for a bad login. */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.request('/v2/', { scopes: [], signal });
    res.body.resume();
    if (res.status !== 200) throw await this.errorOf(res, 'GET /v2/');
  }

  /**
   * Sends a request (path relative to /v2's host, e.g. "/v2/app/manifests/1"), adding the
   * Authorization the registry asked for; a 401 is answered once by authenticating and resending.
   */
  async request(path: string, opts: SendOptions): Promise<RegistryResponse> {
    let auth = await this.#authorization(opts.scopes, opts.signal, false);
    let res = await this.#send(path, opts, auth);
    if (res.status === 401 && !(opts.body && !Buffer.isBuffer(opts.body))) {
      const challenge = parseChallenge(res.headers['www-authenticate']);
      res.body.resume();
      if (challenge === null) throw await this.errorOf(res, `${opts.method ?? 'GET'} ${path}`);
      this.#challenge = challenge;
      auth = await this.#authorization(opts.scopes, opts.signal, true);
      if (auth === null) {
        throw new Unauthorized(`${this.host}: authentication required; log in with "hako login ${this.host}"`);
      }
      res = await this.#send(path, opts, auth);
      if (res.status === 401) {
        res.body.resume();
        throw new Unauthorized(`${this.host}: unauthorized: the registry refused the credentials for ${opts.scopes.join(' ') || 'this request'}`);
      }
    }
    return res;
  }

  /** Makes sure the next requests for `scopes` carry credentials (before a stream upload). */
  async ensureAuth(scopes: readonly string[], signal?: AbortSignal): Promise<void> {
    if (this.#challenge === undefined) await this.ping(signal).catch((err: unknown) => { if (err instanceof Unauthorized) throw err; });
    await this.#authorization(scopes, signal, false);
  }

  /** An error from a registry's answer, with the distribution spec's error code and message. */
  async errorOf(res: RegistryResponse, what: string): Promise<HakoError> {
    let text = '';
    try {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of res.body as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > 64 * 1024) break;
        chunks.push(c);
      }
      text = Buffer.concat(chunks).toString('utf8');
    } catch { /* the status alone will do */ }
    let detail = '';
    try {
      const doc = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string; detail?: unknown }> };
      detail = (doc.errors ?? []).map((e) => `${String(e.code ?? 'error').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`).join('; ');
    } catch {
      detail = text.trim().slice(0, 200);
    }
    const msg = `${what} on ${this.host}: ${res.status} ${http.STATUS_CODES[res.status] ?? ''}${detail ? ` (${detail})` : ''}`;
    if (res.status === 401) return new Unauthorized(msg);
    if (res.status === 403) return new Forbidden(msg);
    if (res.status === 404) return new NotFound(msg);
    if (res.status >= 400 && res.status < 500) return new InvalidArgument(msg);
    return new Unavailable(msg);
  }

  async #send(path: string, opts: SendOptions, auth: string | null): Promise<RegistryResponse> {
    if (this.#scheme === null) {
      if (!this.#insecure) this.#scheme = 'https:';
      else {
        try {
          const res = await this.#sendWith('https:', path, opts, auth);
          this.#scheme = 'https:';
          return res;
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          const cause = (err as { cause?: { code?: string } }).cause?.code ?? '';
          if (!TLS_FAILURES.has(code) && !TLS_FAILURES.has(cause) && !/SSL|TLS|wrong version/i.test((err as Error).message)) throw err;
          this.#scheme = 'http:';
        }
      }
    }
    return this.#sendWith(this.#scheme, path, opts, auth);
  }

  #sendWith(scheme: 'https:' | 'http:', path: string, opts: SendOptions, auth: string | null): Promise<RegistryResponse> {
    const url = this.#base ? new URL(this.#base.pathname.replace(/\/$/, '') + path, this.#base) : new URL(`${scheme}//${this.host}${path}`);
    return this.#fetch(url, opts, auth, 0);
  }

  #fetch(url: URL, opts: SendOptions, auth: string | null, redirects: number): Promise<RegistryResponse> {
    const method = opts.method ?? 'GET';
    const headers: Record<string, string> = { 'User-Agent': this.#opts.userAgent ?? 'hako', ...opts.headers };
    if (auth !== null) headers.Authorization = auth;
    if (opts.body === undefined) {
      if (method !== 'GET' && method !== 'HEAD') headers['Content-Length'] ??= '0';
    } else if (Buffer.isBuffer(opts.body)) headers['Content-Length'] = String(opts.body.length);
    const mod = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? this.#agents.https : this.#agents.http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent, ...(opts.signal ? { signal: opts.signal } : {}) });
      req.setTimeout(this.#opts.idleTimeoutMs ?? 60_000, () => req.destroy(new Unavailable(`${method} ${url.href}: no answer from ${url.host} for ${Math.round((this.#opts.idleTimeoutMs ?? 60_000) / 1000)} s`)));
      req.once('error', (err) => reject(connectionError(err, url)));
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(status) && location) {
          res.resume();
          if (redirects >= 10) return reject(new Unavailable(`${method} ${url.href}: too many redirects`));
          const next = new URL(location, url);
          // Credentials for the registry are not for the blob store it redirects to.
          const nextAuth = next.host === url.host ? auth : null;
          this.#fetch(next, opts, nextAuth, redirects + 1).then(resolve, reject);
          return;
        }
        // A stalled body must fail too, not hang: the idle timer stays on the socket.
        res.setTimeout?.(this.#opts.idleTimeoutMs ?? 60_000, () => res.destroy(new Unavailable(`${method} ${url.href}: the download from ${url.host} stalled`)));
        resolve({ status, headers: res.headers, body: res, url });
      });
      if (opts.body === undefined) req.end();
      else if (Buffer.isBuffer(opts.body)) req.end(opts.body);
      else {
        const body = opts.body;
        body.once('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  async #authorization(scopes: readonly string[], signal: AbortSignal | undefined, fresh: boolean): Promise<string | null> {
    const ch = this.#challenge;
    if (!ch) return null;
    if (ch.scheme === 'basic') return this.#basic();
    const key = [...scopes].sort().join(' ');
    const have = this.#tokens.get(key);
    if (!fresh && have && have.expires > Date.now()) return `Bearer ${have.token}`;
    if (this.#auth?.registrytoken) return `Bearer ${this.#auth.registrytoken}`;
    const token = await this.#fetchToken(ch.params, scopes, signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  #basic(): string | null {
    const a = this.#auth;
    if (!a) return null;
    if (a.username !== undefined || a.password !== undefined) {
      return `Basic ${Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64')}`;
    }
    return a.auth ? `Basic ${a.auth}` : null;
  }

  /**
   * A bearer token, as docker's registry client gets one: with a refresh token (an identitytoken
   * from an earlier login) by OAuth2 (docs/spec/auth/oauth.md: POST grant_type=refresh_token),
   * otherwise by the token flow of docs/spec/auth/token.md (GET realm?service&scope, Basic).
   */
  async #fetchToken(params: Record<string, string>, scopes: readonly string[], signal?: AbortSignal): Promise<{ token: string; expires: number }> {
    if (this.#refreshToken !== null) {
      const got = await this.#fetchTokenOAuth(params, scopes, this.#refreshToken, signal);
      if (got !== null) return got;
    }
    return this.#fetchTokenBasic(params, scopes, signal);
  }

  /**
   * POST realm (form: grant_type=refresh_token, refresh_token, service, client_id, scope). Null
   * when the token server has no OAuth2 endpoint (404, as GCR answers): docker then falls back
   * to the GET flow.
   */
  async #fetchTokenOAuth(params: Record<string, string>, scopes: readonly string[], refreshToken: string, signal?: AbortSignal): Promise<{ token: string; expires: number } | null> {
    const url = this.#realm(params);
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service: params.service ?? '', client_id: CLIENT_ID });
    if (this.#opts.offlineAccess) form.set('access_type', 'offline');
    const wanted = new Set(scopes);
    if (params.scope) for (const s of params.scope.split(' ')) wanted.add(s);
    if (wanted.size > 0) form.set('scope', [...wanted].join(' '));
    const body = Buffer.from(form.toString());
    const res = await this.#fetch(url, {
      method: 'POST', scopes: [], signal, body,
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    }, null, 0).catch((err: unknown) => {
      throw new Unavailable(`${this.host}: cannot get a token from ${url.origin}${url.pathname}: ${(err as Error).message}`, { cause: err });
    });
    const text = await readSmall(res.body);
    if (res.status === 404) return null;
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new Unauthorized(`${this.host}: unauthorized: the token server ${url.host} refused the saved identity token (expired or revoked?); log in again with "hako login ${this.host}"`);
    }
    return this.#tokenAnswer(res.status, text, url);
  }

  #realm(params: Record<string, string>): URL {
    const realm = params.realm;
    if (!realm) throw new Unavailable(`${this.host}: the registry asked for a bearer token without naming a realm`);
    try {
      return new URL(realm);
    } catch {
      throw new Unavailable(`${this.host}: the token realm "${realm}" is not a URL`);
    }
  }

  /** The answer of a token server: {token | access_token, expires_in, refresh_token}. */
  #tokenAnswer(status: number, text: string, url: URL): { token: string; expires: number } {
    if (status !== 200) throw new Unavailable(`${this.host}: the token server ${url.host} answered ${status} ${http.STATUS_CODES[status] ?? ''}`);
    let doc: { token?: string; access_token?: string; expires_in?: number; refresh_token?: string };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      throw new Unavailable(`${this.host}: the token server ${url.host} answered something that is not JSON`);
    }
    const token = doc.token ?? doc.access_token;
    if (!token) throw new Unavailable(`${this.host}: the token server ${url.host} answered without a token`);
    // A new refresh token replaces the old one (docker's SetRefreshToken).
    if (typeof doc.refresh_token === 'string' && doc.refresh_token !== '') this.#refreshToken = doc.refresh_token;
    // Tokens live 60 s unless told otherwise (token.md); renew a little early.
    const life = (typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60) * 1000;
    return { token, expires: Date.now() + life - 5000 };
  }

  /** The token flow of distribution's docs/spec/auth/token.md (GET realm?service&scope, Basic). */
  async #fetchTokenBasic(params: Record<string, string>, scopes: readonly string[], signal?: AbortSignal): Promise<{ token: string; expires: number }> {
    const url = this.#realm(params);
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = new Set(scopes);
    if (params.scope) for (const s of params.scope.split(' ')) wanted.add(s);
    for (const s of wanted) url.searchParams.append('scope', s);
    const basic = this.#basic();
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (basic) headers.Authorization = basic;
    if (this.#auth?.username) url.searchParams.set('account', this.#auth.username);
    if (this.#opts.offlineAccess) {
      url.searchParams.set('offline_token', 'true');
      url.searchParams.set('client_id', CLIENT_ID);
    }
    const res = await this.#fetch(url, { scopes: [], headers, signal }, basic, 0).catch((err: unknown) => {
      throw new Unavailable(`${this.host}: cannot get a token from ${url.origin}${url.pathname}: ${(err as Error).message}`, { cause: err });
    });
    const text = await readSmall(res.body);
    if (res.status === 401 || res.status === 403) {
      throw new Unauthorized(`${this.host}: unauthorized: the token server ${url.host} refused ${basic ? `the credentials of "${this.#auth?.username ?? ''}" (incorrect username or password?)` : 'anonymous access; log in first'}`);
    }
    return this.#tokenAnswer(res.status, text, url);
  }
}

/** Parses `Bearer realm="..",service="..",scope=".."` or `Basic realm=".."`. */
export function parseChallenge(header: string | string[] | undefined): Challenge | null {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    const m = /^\s*(\w+)\s*(.*)$/s.exec(value);
    if (!m) continue;
    const scheme = (m[1] as string).toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'basic') continue;
    const params: Record<string, string> = {};
    const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
    for (let p = re.exec(m[2] as string); p; p = re.exec(m[2] as string)) {
      params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3] ?? '';
    }
    return { scheme, params };
  }
  return null;
}

/** localhost, 127.0.0.0/8, ::1, or listed (as host, host:port or CIDR) under insecure-registries. */
export function isInsecure(host: string, insecure: readonly string[]): boolean {
  const name = hostname(host);
  if (name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (e === host || e === name) return true;
    if (e.includes('/') && isIP(name) === 4 && inCidr(name, e)) return true;
  }
  return false;
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  if (isIP(net) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string): number => a.split('.').reduce((n, o) => (n * 256) + Number(o), 0);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(net) & mask) >>> 0);
}

function connectionError(err: unknown, url: URL): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e instanceof Unavailable || e?.name === 'AbortError') return err;
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT'].includes(code)) {
    return new Unavailable(`registry ${url.host} is not reachable (${e.message}): is it running, and is the address right?`, { cause: err });
  }
  if (TLS_FAILURES.has(code) || /SSL|certificate|TLS/i.test(e?.message ?? '')) {
    const wrapped = new Unavailable(`${url.href}: ${e.message}; if ${url.host} serves plain http, list it under "insecure-registries" in the daemon config`, { cause: err });
    (wrapped as unknown as { code: string }).code = code;
    return wrapped;
  }
  return err;
}

export async function readSmall(body: Readable, limit = 4 * 1024 * 1024, what = 'response'): Promise<string> {
  return (await readBytes(body, limit, what)).toString('utf8');
}

export async function readBytes(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      body.destroy();
      throw new InvalidArgument(`${what} is larger than ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}
