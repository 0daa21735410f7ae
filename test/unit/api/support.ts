/**
 * Test support for the HTTP layer: a server over a small in-test Engine (only the methods a test
 * provides; anything else throws, so a test notices a call it did not expect), requests over a
 * unix socket in a temp dir, and a raw-socket client for hijacked streams.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createApiServer, type Logger } from '../../../src/api/index.js';
import type { Engine } from '../../../src/engine/contract.js';

export type EngineParts = { [K in keyof Engine]?: Partial<Engine[K]> };

/** The methods of the Engine contract; anything else reads as absent, as on a real engine. */
const CONTRACT: Record<string, ReadonlySet<string>> = {
  containers: new Set(['create', 'inspect', 'list', 'start', 'stop', 'restart', 'kill', 'wait', 'remove', 'rename', 'pause', 'unpause', 'top', 'logs', 'attach', 'resize', 'changes', 'export', 'statPath', 'getArchive', 'putArchive', 'prune', 'commit']),
  exec: new Set(['create', 'start', 'resize', 'inspect']),
  images: new Set(['list', 'inspect', 'history', 'tag', 'remove', 'importRootfs', 'load', 'save', 'prune']),
  system: new Set(['version', 'info', 'df']),
};

function unexpected(service: string): object {
  return new Proxy({}, {
    get(_target, prop) {
      if (typeof prop !== 'string' || !CONTRACT[service]?.has(prop)) return undefined;
      return () => { throw new Error(`test engine: ${service}.${String(prop)} was not expected to be called`); };
    },
  });
}

export function fakeEngine(parts: EngineParts): Engine {
  const engine: Record<string, object> = {};
  for (const service of ['containers', 'exec', 'images', 'system'] as const) {
    const given = parts[service] as object | undefined;
    engine[service] = given === undefined ? unexpected(service) : Object.assign(Object.create(unexpected(service)) as object, given);
  }
  return engine as unknown as Engine;
}

export interface RecordingLogger extends Logger {
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  return {
    lines,
    debugEnabled: false,
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

export interface TestServer {
  socketPath: string;
  logger: RecordingLogger;
  request(method: string, url: string, body?: string | Buffer, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): unknown;
}

export async function startServer(parts: EngineParts): Promise<TestServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hako-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const logger = recordingLogger();
  const server = createApiServer(fakeEngine(parts), { logger, serverVersion: 'test' });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    logger,
    request: (method, url, body, headers) => request(socketPath, method, url, body, headers),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function request(socketPath: string, method: string, url: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString(), json: () => JSON.parse(buf.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw connection for hijack tests: collects every byte the server sends. */
export class RawClient {
  readonly socket: net.Socket;
  #received: Buffer[] = [];
  #waiters: Array<() => void> = [];
  ended = false;
  constructor(socketPath: string) {
    this.socket = net.connect(socketPath);
    this.socket.on('data', (d: Buffer) => { this.#received.push(d); this.#wake(); });
    this.socket.on('end', () => { this.ended = true; this.#wake(); });
    this.socket.on('close', () => { this.ended = true; this.#wake(); });
  }
  get received(): Buffer {
    return Buffer.concat(this.#received);
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  /** Resolves once `predicate` holds for the bytes so far (or fails after 2 s). */
  async until(predicate: (data: Buffer, ended: boolean) => boolean, what: string): Promise<Buffer> {
    const deadline = Date.now() + 2000;
    while (!predicate(this.received, this.ended)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.received.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.received;
  }
}

/** Splits a raw HTTP response into its head and the bytes after the blank line. */
export function splitHead(data: Buffer): { head: string; rest: Buffer } | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  return { head: data.subarray(0, end).toString('latin1'), rest: data.subarray(end + 4) };
}
