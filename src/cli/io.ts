/** Small stream helpers shared by commands that read files or discard output. */
import { createReadStream } from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { StatusError } from './errors.js';

/** Opens a file for reading; a missing file fails like docker ("open x: no such file or directory"). */
export function openInput(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  return new Promise((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (e: NodeJS.ErrnoException) =>
      reject(new StatusError(1, e.code === 'ENOENT' ? `open ${path}: no such file or directory` : e.message)));
  });
}

/** A sink that drops everything (quiet modes). */
export function nullWriter(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}
