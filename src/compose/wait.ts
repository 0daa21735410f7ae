/**
 * Waiting on containers by following the engine's events (GET /events filtered by the project's
 * label), as compose's waitDependencies / `up --wait` do, instead of polling inspect: the stream
 * is opened first, each container's state is then read once, and a container is read again only
 * when an event about it arrives (start, die, health_status …). A container that never changes
 * costs nothing; a health check that turns healthy is seen at once.
 */
import type { Client, ContainerInspect } from '../client/index.js';
import { InvalidArgument, Unavailable } from '../errdefs/index.js';
import { PROJECT_LABEL } from './labels.js';

export type ContainerState = ContainerInspect['State'] & { Health?: { Status: string } };

/** What a container's state says about the wait: settled (with the status to report), not yet, or failed. */
export type Verdict = { kind: 'done'; status: string } | { kind: 'wait' } | { kind: 'error'; message: string };

export interface AwaitOptions {
  signal?: AbortSignal;
  /** Fail with compose's "application not healthy after …" when the wait takes longer (ms). */
  timeoutMs?: number;
  /** Called once per container when its verdict is `done` (its name without the slash). */
  onDone?: (id: string, name: string, status: string) => void;
  /** Called once per container before it is waited for, and when it fails. */
  onWaiting?: (id: string, name: string) => void;
  onError?: (id: string, name: string) => void;
}

/**
 * Resolves when `judge` says `done` for every container of `ids` (of project `project`); rejects
 * with the verdict's message on `error`, or when the timeout passes.
 */
export async function awaitContainers(client: Client, project: string, ids: string[], judge: (st: ContainerState, name: string) => Verdict, opts: AwaitOptions = {}): Promise<void> {
  if (ids.length === 0) return;
  const abort = new AbortController();
  const onOuter = (): void => abort.abort();
  opts.signal?.addEventListener('abort', onOuter, { once: true });
  let timedOut = false;
  const timer = opts.timeoutMs !== undefined
    ? setTimeout(() => { timedOut = true; abort.abort(); }, opts.timeoutMs)
    : null;
  const pending = new Set(ids);
  try {
    // Subscribed before the first look: a change between the two is an event we will see.
    const stream = await client.events({ filters: { type: ['container'], label: [`${PROJECT_LABEL}=${project}`] }, signal: abort.signal });
    const names = new Map<string, string>();
    const look = async (id: string): Promise<void> => {
      const info = await client.containerInspect(id);
      const name = info.Name.replace(/^\//, '');
      if (!names.has(id)) {
        names.set(id, name);
        opts.onWaiting?.(id, name);
      }
      const v = judge(info.State as ContainerState, name);
      if (v.kind === 'wait') return;
      pending.delete(id);
      if (v.kind === 'error') {
        opts.onError?.(id, name);
        throw new InvalidArgument(v.message);
      }
      opts.onDone?.(id, name, v.status);
    };
    for (const id of ids) await look(id);
    if (pending.size === 0) return;
    for await (const e of stream) {
      if (!pending.has(e.Actor.ID)) continue;
      await look(e.Actor.ID);
      if (pending.size === 0) return;
    }
    throw new Unavailable('the engine closed its event stream while compose was waiting for containers');
  } catch (e) {
    if (timedOut) throw new Unavailable(`application not healthy after ${formatDuration(opts.timeoutMs ?? 0)}`);
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuter);
    abort.abort();
  }
}

/** Go's time.Duration String() for whole milliseconds: 1m30s, 10s, 1.5s, 200ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

/** compose's service_healthy: healthy; failed when unhealthy, exited, or without a health check. */
export function healthyVerdict(st: ContainerState, name: string): Verdict {
  if (!st.Health) return { kind: 'error', message: `dependency failed to start: container ${name} has no healthcheck configured` };
  if (st.Health.Status === 'healthy') return { kind: 'done', status: 'Healthy' };
  if (st.Health.Status === 'unhealthy') return { kind: 'error', message: `dependency failed to start: container ${name} is unhealthy` };
  if (!st.Running && !st.Restarting) return { kind: 'error', message: `dependency failed to start: container ${name} exited (${st.ExitCode})` };
  return { kind: 'wait' };
}

/** compose's service_completed_successfully: exited 0 (a container not started yet is waited for). */
export function completedVerdict(service: string): (st: ContainerState) => Verdict {
  return (st) => {
    if (st.Running || st.Restarting || st.Status === 'created') return { kind: 'wait' };
    if (st.ExitCode !== 0) return { kind: 'error', message: `service "${service}" didn't complete successfully: exit ${st.ExitCode}` };
    return { kind: 'done', status: 'Exited' };
  };
}

/** `up --wait`: running, and healthy when the container has a health check. */
export function runningVerdict(st: ContainerState, name: string): Verdict {
  if (!st.Running) return { kind: 'error', message: `container ${name} exited (${st.ExitCode})` };
  if (st.Health?.Status === 'unhealthy') return { kind: 'error', message: `container ${name} is unhealthy` };
  if (!st.Health || st.Health.Status === 'healthy') return { kind: 'done', status: 'Healthy' };
  return { kind: 'wait' };
}
