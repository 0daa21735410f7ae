/**
 * HTTP over the daemon's unix socket: one keep-alive Agent per client, requests that resolve with
 * the response head (bodies stay streams), Docker's JSON errors turned into ClientError, and
 * connection failures turned into DaemonUnreachable so the CLI can print Docker's message.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';

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

/** Parses `unix:///path` (the only scheme hako needs) into a socket path. */
export function socketPathOf(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.startsWith('/')) return host;
  throw new Error(`unsupported host ${JSON.stringify(host)}: only unix:///path is supported`);
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

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'EACCES', 'ECONNRESET']);

export class Transport {
  readonly host: string;
  readonly #socketPath: string;
  readonly #agent: http.Agent;

  constructor(host: string) {
    this.host = host;
    this.#socketPath = socketPathOf(host);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
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
    const options: http.RequestOptions & { servername: string } = {
      socketPath: this.#socketPath,
      agent: this.#agent,
      method: opts.method ?? 'GET',
      path: path + encodeQuery(opts.query),
      headers: { Host: 'api.hako', ...headers },
      // No TLS over a unix socket: an empty servername spares the agent its isIP() check, whose
      // first call compiles the IPv6 regular expression (~4 ms of every CLI run).
      servername: '',
      signal: opts.signal,
    };
    const req = http.request(options);
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
    if (code && UNREACHABLE.has(code)) return new DaemonUnreachable(this.host, { cause: err });
    return err as Error;
  }

  close(): void {
    this.#agent.destroy();
  }
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
