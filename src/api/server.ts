/**
 * createApiServer: node:http server for the Docker Engine API on top of an Engine. One dispatch
 * path per request: split the version prefix, match the route, run the handler, and translate any
 * thrown error in errors.ts. Hijacking routes (attach, exec start) also arrive via 'upgrade'.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/contract.js';
import type { Call, Handler, HijackCall, HijackHandler, ServerSettings } from './call.js';
import { errorReply, rawErrorResponse, sendError } from './errors.js';
import { requestConn, upgradeConn, type HijackConn } from './hijack.js';
import type { Logger } from './logger.js';
import { EMPTY_QUERY } from './query.js';
import { containerAttach, containerRoutes } from './routes/containers.js';
import { execRoutes, execStart } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { registryRoutes } from './routes/registry.js';
import { systemRoutes } from './routes/system.js';
import { volumeRoutes } from './routes/volumes.js';
import { statsRoutes } from './routes/stats.js';
import { eventRoutes } from './routes/events.js';
import { networkRoutes } from './routes/networks.js';
import { buildRoutes } from './routes/build.js';
import { bootstrapRoutes } from './routes/bootstrap.js';
import { swarmRoutes } from './routes/swarm.js';
import { API_VERSION, checkVersion, matchRoute, splitVersion, type RouteKey } from './router.js';

export interface ApiServerOptions {
  logger: Logger;
  /** Builder-Version advertised by /_ping (default "1": the classic builder). */
  builderVersion?: string;
  /** Goes into the Server header: `hako/<serverVersion> (linux)`. */
  serverVersion?: string;
}

const HANDLERS: Readonly<Partial<Record<RouteKey, Handler>>> = { ...systemRoutes, ...containerRoutes, ...imageRoutes, ...registryRoutes, ...execRoutes, ...volumeRoutes, ...statsRoutes, ...eventRoutes, ...networkRoutes, ...buildRoutes, ...bootstrapRoutes, ...swarmRoutes };
const HIJACKERS: Readonly<Partial<Record<RouteKey, HijackHandler>>> = { containerAttach, execStart };

const NOT_FOUND_BODY = '{"message":"page not found"}\n';

export function createApiServer(engine: Engine, opts: ApiServerOptions): http.Server {
  const logger = opts.logger;
  const commonHeaders = {
    'Api-Version': API_VERSION,
    Ostype: 'linux',
    Server: `hako/${opts.serverVersion ?? 'dev'} (linux)`,
  };
  const settings: ServerSettings = {
    logger,
    builderVersion: opts.builderVersion ?? '1',
    commonHeaders,
    commonHeaderLines: Object.entries(commonHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join(''),
  };

  // Long-lived requests (logs -f, wait, big loads) must not be cut by node's request timeout.
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    for (const name in commonHeaders) res.setHeader(name, commonHeaders[name as keyof typeof commonHeaders]);
    void dispatch(engine, settings, req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void dispatchUpgrade(engine, settings, req, socket, head);
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    logger.debug(`bad HTTP request: ${err.message}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

function describe(req: IncomingMessage): string {
  return `${req.method} ${req.url}`;
}

interface Target {
  query: URLSearchParams;
  version: string;
  key: RouteKey;
  param: string;
}

/** Null when no route matches; throws for a version outside 1.24..1.47 or a bad path segment. */
function resolve(req: IncomingMessage): Target | null {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const { version, path } = splitVersion(pathname);
  if (version !== null) checkVersion(version);
  const match = matchRoute(req.method ?? 'GET', path);
  if (match === null) return null;
  return {
    query: q < 0 || q === url.length - 1 ? EMPTY_QUERY : new URLSearchParams(url.slice(q + 1)),
    version: version ?? API_VERSION,
    key: match.key,
    param: match.param,
  };
}

async function dispatch(engine: Engine, settings: ServerSettings, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const logger = settings.logger;
  if (logger.debugEnabled !== false) logger.debug(`Calling ${describe(req)}`);
  try {
    const target = resolve(req);
    if (target === null) {
      res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': NOT_FOUND_BODY.length }).end(NOT_FOUND_BODY);
      return;
    }
    const base = { engine, query: target.query, param: target.param, version: target.version, settings };
    const handler = HANDLERS[target.key];
    if (handler !== undefined) {
      const call: Call = { ...base, req, res };
      await handler(call);
      return;
    }
    const hijacker = HIJACKERS[target.key];
    if (hijacker !== undefined) {
      const call: HijackCall = { ...base, conn: requestConn(req, res, settings.commonHeaderLines) };
      await hijacker(call);
    }
  } catch (err) {
    sendError(res, err, logger, describe(req));
  }
}

async function dispatchUpgrade(engine: Engine, settings: ServerSettings, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const logger = settings.logger;
  if (logger.debugEnabled !== false) logger.debug(`Calling ${describe(req)} (upgrade)`);
  let tookOver = false;
  socket.on('error', (err) => logger.debug(`${describe(req)}: ${err.message}`));
  try {
    const target = resolve(req);
    const hijacker = target === null ? undefined : HIJACKERS[target.key];
    if (target === null || hijacker === undefined) {
      socket.end(`HTTP/1.1 404 Not Found\r\n${settings.commonHeaderLines}Content-Type: application/json\r\nContent-Length: ${NOT_FOUND_BODY.length}\r\nConnection: close\r\n\r\n${NOT_FOUND_BODY}`);
      return;
    }
    const inner = upgradeConn(req, socket, head, settings.commonHeaderLines);
    const conn: HijackConn = {
      ...inner,
      takeOver(contentType) {
        tookOver = true;
        return inner.takeOver(contentType);
      },
    };
    await hijacker({ engine, query: target.query, param: target.param, version: target.version, settings, conn });
  } catch (err) {
    const reply = errorReply(err, logger, describe(req));
    if (tookOver || !socket.writable) socket.destroy();
    else socket.end(rawErrorResponse(reply, settings.commonHeaderLines));
  }
}
