/**
 * HTTP over the daemon's unix socket or tcp:// (plain, or TLS with ./remote.ts's settings): one
 * keep-alive Agent per client, requests that resolve with
 * the response head (bodies stay streams), Docker's JSON errors turned into ClientError, and
 * connection failures turned into DaemonUnreachable so the CLI can print Docker's message.
 */
import http from 'node:http';
import type https from 'node:https';
import type { Readable } from 'node:stream';
import { parseClientHost, type ClientHost, type ClientTls } from './remote.js';

/** The daemon answered with an error status; `message` is its `{"message": ...}` text. */
export class ClientError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ClientError';
    this.status = status;
  }
}

/** Nothing answered at the host (ENOENT, ECONNREFUSED, ...). */
export class DaemonUnreachable extends Error {
  readonly host: string;
  constructor(host: string, options?: { cause?: unknown }) {
    super(`Cannot connect to the hako daemon at ${host}. Is the hako daemon running?`, options);
    this.name = 'DaemonUnreachable';
    this.host = host;
  }
}

export type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export interface RequestOptions {
  method?: string;
  query?: Query;
  /** A JSON value (serialised), a Buffer, or a stream (sent chunked). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The socket path of a `unix:///path` host (the embedded daemon's); tcp hosts have none. */
export function socketPathOf(host: string): string {
  const parsed = parseClientHost(host);
  if (parsed.kind === 'unix') return parsed.path;
  throw new Error(`host ${JSON.stringify(host)} is not a unix socket`);
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    const values = Array.isArray(v) ? v : [typeof v === 'boolean' ? (v ? '1' : '0') : String(v)];
    for (const one of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function isStream(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function';
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

export class Transport {
  /** The host as the user named it; tcp hosts in full (`tcp://HOST:PORT`). */
  readonly host: string;
  readonly #address: ClientHost;
  readonly #tls: ClientTls | undefined;
  readonly #https: typeof https | undefined;
  readonly #agent: http.Agent;

  constructor(host: string, tls?: ClientTls) {
    this.#address = parseClientHost(host, tls !== undefined);
    this.host = this.#address.kind === 'tcp' ? this.#address.url : host;
    this.#tls = this.#address.kind === 'tcp' ? tls : undefined;
    if (this.#tls) {
      // Loaded only for TLS: node:https (and node:tls) would cost every unix-socket CLI run.
      this.#https = process.getBuiltinModule('node:https');
      this.#agent = new this.#https.Agent({
        keepAlive: true, maxSockets: 16, ca: this.#tls.ca, cert: this.#tls.cert, key: this.#tls.key,
        rejectUnauthorized: this.#tls.verify,
      });
    } else {
      this.#agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    }
  }

  /** True when requests go over TLS. */
  get tls(): boolean {
    return this.#tls !== undefined;
  }

  /** Builds the request without sending a body; callers that hijack need the raw ClientRequest. */
  open(path: string, opts: RequestOptions = {}): { req: http.ClientRequest; payload: Buffer | Readable | undefined } {
    const headers: Record<string, string> = { ...opts.headers };
    let payload: Buffer | Readable | undefined;
    if (opts.body === undefined) {
      headers['Content-Length'] ??= '0';
    } else if (isStream(opts.body)) {
      payload = opts.body;
      headers['Content-Type'] ??= 'application/x-tar';
    } else if (Buffer.isBuffer(opts.body)) {
      payload = opts.body;
      headers['Content-Length'] = String(opts.body.length);
    } else {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const address = this.#address;
    const options: http.RequestOptions & { servername?: string } = {
      ...(address.kind === 'unix' ? { socketPath: address.path } : { host: address.host, port: address.port }),
      agent: this.#agent,
      method: opts.method ?? 'GET',
      path: path + encodeQuery(opts.query),
      headers: { Host: address.kind === 'unix' ? 'api.hako' : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`, ...headers },
      signal: opts.signal,
    };
    // Without TLS an empty servername spares the agent its isIP() check, whose first call
    // compiles the IPv6 regular expression (~4 ms of every CLI run). With TLS the server's
    // certificate is checked against the host's name.
    if (!this.#https) options.servername = '';
    const req = this.#https ? this.#https.request(options) : http.request(options);
    return { req, payload };
  }

  /** Sends a request; resolves with the response when its status is below 400. */
  request(path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const { req, payload } = this.open(path, opts);
      req.once('error', (err) => reject(this.wrapError(err)));
      req.once('response', (res) => {
        if ((res.statusCode ?? 500) < 400) return resolve(res);
        readError(res).then(reject, reject);
      });
      sendPayload(req, payload, reject);
    });
  }

  async json<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(path, opts);
    const text = await readText(res);
    if (text.trim() === '') return undefined as T;
    return JSON.parse(text) as T;
  }

  /** A request whose body is of no interest (204s, 304s). */
  async send(path: string, opts: RequestOptions = {}): Promise<number> {
    const res = await this.request(path, opts);
    res.resume();
    await new Promise((r) => res.once('end', r));
    return res.statusCode ?? 0;
  }

  wrapError(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (this.#tls && code !== undefined && (code === 'ECONNRESET' || !UNREACHABLE.has(code)) && !code.startsWith('ERR_HTTP') && code !== 'ABORT_ERR') {
      // A TLS handshake refused either way (no client certificate, an unknown CA, a name that does
      // not match) reads as docker's "error during connect", not as a daemon that is down.
      const reason = code === 'ECONNRESET'
        ? 'the daemon closed the connection during the TLS handshake: does it trust your client certificate (--tlscert, --tlskey, DOCKER_CERT_PATH)?'
        : tlsReason(err as Error);
      return new Error(`error during connect: ${this.host} (TLS): ${reason}`, { cause: err });
    }
    if (this.#address.kind === 'tcp' && code === 'ECONNRESET') {
      return new Error(`error during connect: ${this.host}: the daemon closed the connection: does it require TLS (--tlsverify, DOCKER_TLS_VERIFY=1)?`, { cause: err });
    }
    if (code && UNREACHABLE.has(code)) return new DaemonUnreachable(this.host, { cause: err });
    return err as Error;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** OpenSSL's "…:error:0A00045C:SSL routines:fn:tlsv13 alert certificate required:file:line:…" -> its reason. */
function tlsReason(err: Error): string {
  const m = /error:[0-9A-Fa-f]+:SSL routines:[^:]*:([^:]+)/.exec(err.message);
  return m ? m[1]!.trim() : err.message.trim();
}

export function sendPayload(req: http.ClientRequest, payload: Buffer | Readable | undefined, reject: (e: unknown) => void): void {
  if (payload === undefined) req.end();
  else if (Buffer.isBuffer(payload)) req.end(payload);
  else {
    payload.once('error', (e) => { req.destroy(e); reject(e); });
    payload.pipe(req);
  }
}

export async function readText(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Docker's error body is `{"message": "..."}`; older/proxy answers may be plain text. */
export async function readError(res: http.IncomingMessage): Promise<ClientError> {
  const status = res.statusCode ?? 500;
  const text = await readText(res).catch(() => '');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch { /* plain text */ }
  if (message === '') message = `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  return new ClientError(status, message);
}
