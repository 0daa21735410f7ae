/**
 * Moves bytes between the terminal and a hijacked attach/exec connection, like docker's
 * hijackedIOStreamer: output copied with back-pressure (frames split unless TTY), stdin forwarded
 * and half-closed at EOF, the detach sequence recognised on a TTY, the terminal always restored.
 */
import type { HijackedConnection } from '../client/index.js';
import { copyOutput } from '../client/index.js';
import type { Cli } from './cli.js';
import { makeRaw, parseDetachKeys, DetachScanner, DEFAULT_DETACH_KEYS } from './tty.js';

export interface StreamOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
}

export type StreamEnd = 'ended' | 'detached';

export interface Streaming {
  /** Resolves when output ends, or the user detached. */
  done: Promise<StreamEnd>;
  /** Stops forwarding input and restores the terminal. */
  stop(): void;
}

export function streamConnection(cli: Cli, conn: HijackedConnection, opts: StreamOptions): Streaming {
  const restore = opts.stdin && opts.tty ? makeRaw(cli) : () => {};
  const stdout = opts.stdout ? cli.stdout : null;
  // With a TTY the container's stderr is merged into its stdout (docker's attachContainer()).
  const stderr = opts.stderr ? (opts.tty ? cli.stdout : cli.stderr) : null;

  let stopInput = (): void => {};
  const detached = new Promise<StreamEnd>((resolve) => {
    if (!opts.stdin || !conn.input) return;
    const input = conn.input;
    const stdin = cli.stdin;
    const scanner = opts.tty ? new DetachScanner(parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS)) : null;
    const onData = (chunk: Buffer): void => {
      let data = chunk;
      if (scanner) {
        const r = scanner.push(chunk);
        data = r.forward;
        if (r.detached) {
          if (data.length) input.write(data);
          stopInput();
          resolve('detached');
          return;
        }
      }
      if (data.length && !input.write(data)) {
        stdin.pause();
        input.once('drain', () => stdin.resume());
      }
    };
    const onEnd = (): void => {
      stopInput();
      conn.closeWrite();
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
    stopInput = (): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    };
  });

  const output = copyOutput(conn.output as AsyncIterable<Buffer>, opts.tty, stdout, stderr)
    .catch((err: NodeJS.ErrnoException) => {
      // The daemon closing the socket when the process exits is the normal end of a stream.
      if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw err;
    })
    .then((): StreamEnd => 'ended');

  const done = Promise.race([output, detached]).finally(() => {
    stopInput();
    restore();
  });
  return {
    done,
    stop: () => {
      stopInput();
      restore();
    },
  };
}
