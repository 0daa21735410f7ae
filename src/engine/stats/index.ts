/**
 * stats: GET /containers/{id}/stats — a container's CPU, memory, block I/O, PIDs and network
 * counters in Docker's shape, read from its cgroup (v1 or v2, runc's cgroupfs path `/hako/<id>`)
 * and /proc, once (one-shot), twice a second apart (stream=false: precpu filled, as Docker), or
 * every second until the client goes away or the container is removed.
 *
 * Left to others: the CPU % and the table (`hako stats`, cli/), the cgroup set-up (runtime/).
 */
import { readFileSync } from 'node:fs';
import type { ContainerService, Json, StatsService } from '../contract.js';
import { NotFound } from '../../errdefs/index.js';
import { sample, withPrevious, type ReadText } from './collect.js';

export { sample, withPrevious, zeroSample, systemCpu, networksOf, type ReadText, type SampleInput } from './collect.js';

// cgroup and /proc files are tiny and never block: a synchronous read costs a few µs, far less
// than a round trip through libuv's thread pool for each of the ~17 files of a sample.
const readText: ReadText = async (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

const INTERVAL_MS = 1000;

function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class Stats implements StatsService {
  readonly #containers: ContainerService;
  readonly #cgroupVersion: 1 | 2;
  readonly #read: ReadText;

  constructor(containers: ContainerService, opts: { cgroupVersion: 1 | 2; read?: ReadText }) {
    this.#containers = containers;
    this.#cgroupVersion = opts.cgroupVersion;
    this.#read = opts.read ?? readText;
  }

  async #sample(ref: string): Promise<Json | null> {
    let info: Json;
    try {
      info = await this.#containers.inspect(ref);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
    const state = info.State as { Running: boolean; Pid: number };
    const id = String(info.Id);
    return sample(this.#read, {
      id, name: String(info.Name).replace(/^\//, ''), pid: state.Running ? state.Pid : 0,
      cgroupVersion: this.#cgroupVersion, cgroupPath: `/hako/${id}`,
    });
  }

  async container(ref: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): Promise<AsyncIterable<Json>> {
    const first = await this.#sample(ref);
    if (!first) throw new NotFound(`No such container: ${ref}`);
    const id = String(first.id);
    const self = this;
    return (async function* () {
      if (!opts.stream && opts.oneShot) {
        yield withPrevious(first, null);
        return;
      }
      let previous: Json | null = null;
      let current: Json | null = first;
      if (!opts.stream) {
        // Two samples a second apart, so the CPU % of a one-off answer means something.
        if (!(await delay(INTERVAL_MS, opts.signal))) return;
        const next = await self.#sample(id);
        yield withPrevious(next ?? first, next ? first : null);
        return;
      }
      while (current) {
        yield withPrevious(current, previous);
        previous = current;
        if (!(await delay(INTERVAL_MS, opts.signal))) return;
        current = await self.#sample(id);
      }
    })();
  }
}
