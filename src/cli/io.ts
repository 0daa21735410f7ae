/** Small stream helpers shared by commands that read files or discard output. */
import { createReadStream, readFileSync } from 'node:fs';
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

/** Reads a small text file (env and label files); errors read like Go's ("open x: no such file or directory"). */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`open ${path}: no such file or directory`);
    if (err.code === 'EACCES') throw new Error(`open ${path}: permission denied`);
    if (err.code === 'EISDIR') throw new Error(`read ${path}: is a directory`);
    throw e;
  }
}
