/**
 * The one place where thrown errors become Docker's error responses: errdefs errors keep their
 * status and message; anything else is a 500 whose message is passed on and which is logged.
 */
import type { ServerResponse } from 'node:http';
import { isHakoError } from '../errdefs/index.js';
import type { Logger } from './logger.js';

export interface ErrorReply {
  status: number;
  /** `{"message": ...}\n`, or '' for 304 (which may not carry a body). */
  body: string;
}

export function errorReply(err: unknown, logger: Logger, context: string): ErrorReply {
  let status: number;
  let message: string;
  if (isHakoError(err)) {
    status = err.status;
    message = err.message;
    if (status >= 500) logger.error(`${context}: ${message}`);
    else logger.debug(`${context}: ${status} ${message}`);
  } else {
    status = 500;
    message = err instanceof Error ? err.message : String(err);
    logger.error(`${context}: unexpected error: ${err instanceof Error && err.stack ? err.stack : message}`);
  }
  return { status, body: status === 304 ? '' : `${JSON.stringify({ message })}\n` };
}

/** Sends the error if the response has not started; otherwise there is nothing left but to cut it. */
export function sendError(res: ServerResponse, err: unknown, logger: Logger, context: string): void {
  const reply = errorReply(err, logger, context);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (reply.body === '') {
    res.writeHead(reply.status).end();
    return;
  }
  res.writeHead(reply.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

/** The same reply as raw HTTP/1.1 bytes, for a socket taken over in the 'upgrade' event. */
export function rawErrorResponse(reply: ErrorReply, extraHeaders: string): string {
  const reason = STATUS_TEXT[reply.status] ?? 'Error';
  const type = reply.body === '' ? '' : 'Content-Type: application/json\r\n';
  return `HTTP/1.1 ${reply.status} ${reason}\r\n${extraHeaders}${type}Content-Length: ${Buffer.byteLength(reply.body)}\r\nConnection: close\r\n\r\n${reply.body}`;
}

const STATUS_TEXT: Record<number, string> = {
  304: 'Not Modified', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};
