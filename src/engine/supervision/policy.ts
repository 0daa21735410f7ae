/**
 * The pure rules of supervision: a container's health-check settings and restart policy, read
 * from its Config/HostConfig and checked the way dockerd checks them (daemon/container.go
 * validateHealthCheck, api/types/container ValidateRestartPolicy), and Docker's restart backoff
 * (restartmanager: 100 ms doubling up to 1 min, reset after 10 s up).
 */
import { InvalidArgument } from '../../errdefs/index.js';
import type { Json } from '../contract.js';

/** What to do when a container turns unhealthy (Podman's --health-on-failure). */
export type OnFailureAction = 'none' | 'kill' | 'restart' | 'stop';
export const ON_FAILURE_ACTIONS: readonly OnFailureAction[] = ['none', 'kill', 'restart', 'stop'];
/**
 * The label that carries --health-on-failure: a label, so the docker CLI and Compose can set it
 * too (`-l io.hako.health.on-failure=restart`), since Docker's API has no field for it.
 */
export const ON_FAILURE_LABEL = 'io.hako.health.on-failure';

export interface HealthSettings {
  /** The argv run in the container. */
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
  onFailure: OnFailureAction;
}

// Docker's defaults (api/types/container: DefaultHealthcheck*).
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
const NS_PER_MS = 1_000_000;
const MIN_DURATION_NS = 1_000_000; // 1ms, docker's MinimumDuration

function nanos(hc: Json, field: string): number {
  const v = hc[field];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidArgument(`${field} in Healthcheck must be a number of nanoseconds`);
  return v;
}

/** Checks a Config.Healthcheck as dockerd does at create; throws InvalidArgument naming the field. */
export function validateHealthcheck(hc: Json | null | undefined): void {
  if (!hc) return;
  const test = hc.Test;
  if (test !== undefined && test !== null && !(Array.isArray(test) && test.every((t) => typeof t === 'string'))) {
    throw new InvalidArgument('Test in Healthcheck must be an array of strings, like ["CMD-SHELL", "curl -f http://localhost/"]');
  }
  if (Array.isArray(test) && test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0] as string)) {
    throw new InvalidArgument(`unknown type in Healthcheck Test: "${String(test[0])}"; use "CMD", "CMD-SHELL" or "NONE"`);
  }
  for (const field of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval']) {
    const v = nanos(hc, field);
    if (v !== 0 && v < MIN_DURATION_NS) throw new InvalidArgument(`${field} in Healthcheck cannot be less than 1ms`);
  }
  const retries = hc.Retries;
  if (retries !== undefined && retries !== null && (typeof retries !== 'number' || !Number.isInteger(retries))) {
    throw new InvalidArgument('Retries in Healthcheck must be an integer');
  }
  if (typeof retries === 'number' && retries < 0) throw new InvalidArgument('Retries in Healthcheck cannot be negative');
}

export function parseOnFailure(labels: Record<string, string> | null | undefined): OnFailureAction {
  const v = labels?.[ON_FAILURE_LABEL];
  if (v === undefined || v === '') return 'none';
  if (!(ON_FAILURE_ACTIONS as readonly string[]).includes(v)) {
    throw new InvalidArgument(`invalid health-on-failure action "${v}" (label ${ON_FAILURE_LABEL}): use one of ${ON_FAILURE_ACTIONS.join(', ')}`);
  }
  return v as OnFailureAction;
}

/** The container's effective health check, or null when it has none (or `NONE`). */
export function healthSettingsOf(config: Json): HealthSettings | null {
  const hc = config.Healthcheck as Json | null | undefined;
  if (!hc) return null;
  const test = (hc.Test as string[] | null | undefined) ?? [];
  const [kind, ...rest] = test;
  let argv: string[];
  if (kind === 'CMD') argv = rest;
  else if (kind === 'CMD-SHELL') {
    const shell = Array.isArray(config.Shell) && config.Shell.length > 0 ? (config.Shell as string[]) : ['/bin/sh', '-c'];
    argv = [...shell, rest.join(' ')];
  } else return null; // NONE, or no test at all
  if (argv.length === 0 || argv[0] === '') return null;
  const ms = (field: string, dflt: number): number => {
    const v = nanos(hc, field);
    return v > 0 ? v / NS_PER_MS : dflt;
  };
  const retries = typeof hc.Retries === 'number' && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES;
  return {
    argv,
    intervalMs: ms('Interval', DEFAULT_INTERVAL_MS),
    timeoutMs: ms('Timeout', DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms('StartPeriod', 0),
    startIntervalMs: ms('StartInterval', DEFAULT_START_INTERVAL_MS),
    retries,
    onFailure: parseOnFailure(config.Labels as Record<string, string> | null),
  };
}

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  Name: RestartPolicyName;
  MaximumRetryCount: number;
}

/**
 * HostConfig.RestartPolicy, checked with dockerd's messages. An empty name is "no" (clients
 * before docker 25 sent it).
 */
export function parseRestartPolicy(raw: unknown): RestartPolicy {
  if (raw === undefined || raw === null) return { Name: 'no', MaximumRetryCount: 0 };
  if (typeof raw !== 'object') throw new InvalidArgument('invalid restart policy: expected an object like {"Name": "always"}');
  const r = raw as Json;
  const name = r.Name === undefined || r.Name === null ? '' : r.Name;
  const max = r.MaximumRetryCount === undefined || r.MaximumRetryCount === null ? 0 : r.MaximumRetryCount;
  if (typeof name !== 'string') throw new InvalidArgument('invalid restart policy: Name must be a string');
  if (typeof max !== 'number' || !Number.isInteger(max)) throw new InvalidArgument('invalid restart policy: maximum retry count must be an integer');
  switch (name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
    case '':
      if (max !== 0 && name !== '') {
        throw new InvalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`);
      }
      return { Name: name === '' ? 'no' : name, MaximumRetryCount: 0 };
    case 'on-failure':
      if (max < 0) throw new InvalidArgument('invalid restart policy: maximum retry count cannot be negative');
      return { Name: name, MaximumRetryCount: max };
    default:
      throw new InvalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** Whether a policy restarts a container that just exited (the restart manager's ShouldRestart). */
export function policyRestarts(p: RestartPolicy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  if (manuallyStopped) return false;
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (p.MaximumRetryCount === 0 || restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/**
 * Whether a container found stopped when hakod starts comes back (docker's ShouldRestart at
 * daemon start): `always` even after a user's stop, as docker documents; `unless-stopped` unless
 * the user stopped it; `on-failure` when it had failed and the user did not stop it.
 */
export function policyRestartsAtBoot(p: RestartPolicy, exitCode: number, manuallyStopped: boolean): boolean {
  if (p.Name === 'always') return true;
  if (manuallyStopped) return false;
  return p.Name === 'unless-stopped' || (p.Name === 'on-failure' && exitCode !== 0);
}

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** A run this long resets the backoff. */
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** The next delay before a restart, given the last one (0 = none yet) and how long the run lasted. */
export function nextBackoff(lastMs: number, ranMs: number): number {
  if (ranMs >= BACKOFF_RESET_AFTER_MS || lastMs === 0) return BACKOFF_START_MS;
  return Math.min(lastMs * 2, BACKOFF_MAX_MS);
}
