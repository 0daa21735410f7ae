/** Small concurrency helpers private to the engine. */

export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }
}

/** Serialises operations per key (one container's start/stop/remove never interleave). */
export class KeyedMutex {
  #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}

/**
 * A push-based async iterable with a bounded buffer: producers `push` and await back-pressure via
 * the returned promise, the consumer iterates. `end()` finishes after the buffered items.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiting: Deferred<void> | null = null;
  #space: Deferred<void> | null = null;
  #ended = false;
  #error: unknown = null;
  readonly #highWater: number;

  constructor(highWater = 64) {
    this.#highWater = highWater;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(item: T): Promise<void> {
    if (this.#ended) return Promise.resolve();
    this.#items.push(item);
    this.#wake();
    if (this.#items.length < this.#highWater) return Promise.resolve();
    this.#space ??= new Deferred<void>();
    return this.#space.promise;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (error) this.#error = error;
    this.#wake();
    this.#space?.resolve();
  }

  #wake(): void {
    const w = this.#waiting;
    this.#waiting = null;
    w?.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T;
        if (this.#space && this.#items.length < this.#highWater / 2) {
          this.#space.resolve();
          this.#space = null;
        }
        yield item;
        continue;
      }
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return;
      }
      this.#waiting = new Deferred<void>();
      await this.#waiting.promise;
    }
  }
}
