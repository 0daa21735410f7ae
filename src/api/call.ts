/** The per-request context handed to route handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine/contract.js';
import type { HijackConn } from './hijack.js';
import type { Logger } from './logger.js';

export interface ServerSettings {
  logger: Logger;
  /** Builder-Version advertised by /_ping: "1" is the classic builder hako implements. */
  builderVersion: string;
  /** Preformatted `Name: value\r\n` lines sent on every response (API-Version, OSType, Server). */
  commonHeaders: Readonly<Record<string, string>>;
  commonHeaderLines: string;
}

interface BaseCall {
  engine: Engine;
  query: URLSearchParams;
  /** The id, name or image reference from the path. */
  param: string;
  /** The API version the client asked for (the path prefix), or the server's. */
  version: string;
  settings: ServerSettings;
}

export interface Call extends BaseCall {
  req: IncomingMessage;
  res: ServerResponse;
}

export interface HijackCall extends BaseCall {
  conn: HijackConn;
}

export type Handler = (call: Call) => Promise<void> | void;
export type HijackHandler = (call: HijackCall) => Promise<void>;
