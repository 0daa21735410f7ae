/**
 * HTTP connection hijacking for attach and exec start: the request asks for `Upgrade: tcp`; the
 * daemon answers 101 and the socket becomes a raw duplex stream (stdin in, container output out).
 * A daemon that answers 200 without upgrading still streams output on the response body.
 */
import type { Duplex, Readable } from 'node:stream';
import { Transport, sendPayload, readError, type RequestOptions } from './transport.js';

export interface HijackedConnection {
  /** Container output: raw bytes (TTY) or multiplexed frames. */
  output: Readable;
  /** Write stdin here; `closeWrite()` half-closes it so the process sees EOF. */
  input: Duplex | null;
  closeWrite(): void;
  close(): void;
}

export function hijack(transport: Transport, path: string, opts: RequestOptions): Promise<HijackedConnection> {
  return new Promise((resolve, reject) => {
    const { req, payload } = transport.open(path, {
      ...opts,
      method: 'POST',
      headers: { ...opts.headers, Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.once('error', (err) => reject(transport.wrapError(err)));
    req.once('upgrade', (_res, socket, head) => {
      // A socket reused from the keep-alive pool may be unref'd; a live session must hold the loop.
      socket.ref();
      socket.setNoDelay(true);
      if (head.length) socket.unshift(head);
      resolve({
        output: socket,
        input: socket,
        closeWrite: () => { if (!socket.destroyed) socket.end(); },
        close: () => socket.destroy(),
      });
    });
    req.once('response', (res) => {
      if ((res.statusCode ?? 500) >= 400) return void readError(res).then(reject, reject);
      resolve({ output: res, input: null, closeWrite: () => {}, close: () => res.destroy() });
    });
    sendPayload(req, payload, reject);
  });
}
