/**
 * Change notification for one file, by an inotify watch (fs.watch) on its directory: a watch on
 * the file itself would follow the old inode after a rotation renames it, and miss the new file
 * conmon creates under the same name.
 */

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export class FileChanges {
  #watcher: FSWatcher | undefined;
  #pending = false;
  #closed = false;
  #wake: (() => void) | undefined;

  #onChange: (() => void) | undefined;

  /** `onChange` is called on every change, in addition to waking `wait()`. */
  constructor(path: string, onChange?: () => void) {
    this.#onChange = onChange;
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) this.notify();
      });
      // The directory went away (container removed): nothing more will be written.
      this.#watcher.on('error', () => this.close());
    } catch {
      this.#closed = true;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Wakes a waiter now, or the next one if none waits (so no change is lost between checks). */
  notify(): void {
    this.#pending = true;
    if (!this.#closed) this.#onChange?.();
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Resolves at the next change since the previous call (at once if one already happened), on
   * close, or after `maxWaitMs` as a safety net for file systems without inotify.
   */
  wait(maxWaitMs: number): Promise<void> {
    if (this.#pending || this.#closed) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.notify(), maxWaitMs);
      this.#wake = () => {
        clearTimeout(timer);
        this.#pending = false;
        resolve();
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher?.close();
    this.notify();
  }
}
