/**
 * Hijacked connections for attach and exec start. Docker clients send `Connection: Upgrade` and
 * `Upgrade: tcp` (answered `101 UPGRADED` from the server's 'upgrade' event); older ones send a
 * plain request, whose socket is taken over from node's HTTP parser and answered `200 OK`. Either
 * way the socket then carries raw bytes: output as stdcopy frames (raw on a TTY), input to stdin.
 * See "Hijacking" under ContainerAttach in reference/docker-engine-api/v1.47.yaml.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidArgument } from '../errdefs/index.js';
import type { StdioSession } from '../engine/contract.js';
import type { Logger } from './logger.js';
import { readBody, writeOutput } from './reply.js';

/** What a hijacking handler gets instead of a ServerResponse. */
export interface HijackConn {
  /** The request body (exec start's JSON). */
  readBody(): Promise<Buffer>;
  /** Answers without hijacking (exec start with Detach): status line, no body. */
  finish(status: number): void;
  /** Writes the status line and headers and hands over the raw socket. */
  takeOver(contentType: string): Duplex;
}

const MAX_BODY = 1024 * 1024;

/** For a request that came through the server's 'upgrade' event. */
export function upgradeConn(req: IncomingMessage, socket: Duplex, head: Buffer, commonHeaders: string): HijackConn {
  let leftover = head;
  return {
    async readBody() {
      if (req.headers['transfer-encoding'] !== undefined) {
        throw new InvalidArgument('a chunked request body cannot be combined with Upgrade: tcp; send Content-Length');
      }
      const length = Number(req.headers['content-length'] ?? 0);
      if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY) throw new InvalidArgument(`invalid Content-Length ${req.headers['content-length']}`);
      // The parser stopped at the end of the headers: the body and any early stdin follow in `head`
      // and on the socket.
      while (leftover.length < length) {
        const more = await nextChunk(socket);
        if (more === null) throw new InvalidArgument('connection ended before the request body was complete');
        leftover = Buffer.concat([leftover, more]);
      }
      const body = leftover.subarray(0, length);
      leftover = leftover.subarray(length);
      return body;
    },
    finish(status) {
      socket.end(`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'No Content'}\r\n${commonHeaders}Content-Length: 0\r\n\r\n`);
    },
    takeOver(contentType) {
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${commonHeaders}\r\n`);
      if (leftover.length > 0) socket.unshift(leftover);
      leftover = Buffer.alloc(0);
      return socket;
    },
  };
}

/** For a plain request: the socket is detached from node's HTTP parser after the body was read. */
export function requestConn(req: IncomingMessage, res: ServerResponse, commonHeaders: string): HijackConn {
  return {
    readBody: () => readBody(req, MAX_BODY),
    finish(status) {
      res.writeHead(status, { 'Content-Length': 0 }).end();
    },
    takeOver(contentType) {
      const socket = req.socket;
      detachFromHttp(socket);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n${commonHeaders}\r\n`);
      return socket;
    },
  };
}

/**
 * Undoes what node's HTTP server set up on a connection, as it does itself before emitting
 * 'upgrade': its listeners go, and the parser stops consuming the handle, so later bytes reach us.
 * Bytes the client sent in the same packet as the request are already parsed; legacy clients wait
 * for the response before sending stdin.
 */
function detachFromHttp(socket: Duplex): void {
  for (const event of ['data', 'end', 'close', 'drain', 'error', 'timeout', 'pause', 'resume']) socket.removeAllListeners(event);
  const internal = socket as Duplex & { parser?: { _consumed?: boolean; unconsume?: () => void } | null; _handle?: { _consumed?: boolean } };
  const parser = internal.parser;
  if (parser?._consumed === true && typeof parser.unconsume === 'function') {
    parser.unconsume();
    parser._consumed = false;
  }
  if (internal._handle) internal._handle._consumed = false;
  internal.parser = null;
}

/**
 * Connects a hijacked socket and a stdio session until output ends. Input: socket -> stdin; when
 * the client half-closes, stdin is ended but output keeps flowing (except on a TTY, see below). When output ends the socket is
 * ended; when the client goes away the session is closed (detach, the process lives on).
 */
export async function pipeSession(socket: Duplex, session: StdioSession, logger: Logger): Promise<void> {
  (socket as Duplex & { setTimeout?: (ms: number) => void }).setTimeout?.(0);
  let gone = false;
  socket.on('error', (err) => logger.debug(`hijacked connection: ${err.message}`));
  socket.once('close', () => {
    gone = true;
    session.close();
  });
  if (session.tty && session.input !== null) {
    // On a TTY with stdin attached, a client that stops sending has detached (moby's
    // container/stream/attach.go): there is no separate stdin EOF to pass on. A client without
    // stdin (`run -t` without -i) half-closes at once and still wants every byte of output.
    socket.once('end', () => {
      session.input?.end();
      session.close();
    });
  }
  const input = session.input;
  if (input !== null) {
    input.on('error', (err) => {
      logger.debug(`stdin: ${err.message}`);
      socket.unpipe(input);
      socket.resume();
    });
    socket.pipe(input); // ends stdin when the client closes its write side
  } else {
    socket.resume(); // nobody reads stdin; still notice the client's half-close
  }
  try {
    await writeOutput(socket, session.output, session.tty);
  } catch (err) {
    if (!gone) logger.warn(`attach output stopped: ${(err as Error).message}`);
  } finally {
    if (!gone) socket.end();
  }
}

function nextChunk(socket: Duplex): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => { done(); socket.pause(); resolve(chunk); };
    const onEnd = () => { done(); resolve(null); };
    const onError = (err: Error) => { done(); reject(err); };
    const done = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
