/**
 * The supervision extension: health checks and restart policies for every container, at the
 * points of its life the container service calls (see ContainerExtension).
 *
 * Health (dockerd's daemon/health.go semantics): the first probe runs one interval after start
 * (the start interval while the start period lasts and the container is still `starting`); a
 * success makes it `healthy` and resets the failing streak; a failure outside the start period
 * adds to the streak, and `retries` of them make it `unhealthy`. Each change is a
 * `health_status: <status>` event; the last 5 results are in `State.Health`.
 *
 * Restarts (dockerd's restartmanager): after an exit the policy decides; the delay starts at
 * 100 ms and doubles (up to 1 min) for each restart, back to 100 ms after a run of 10 s.
 * A user's stop or kill (ContainerRecord.ManuallyStopped) is never undone, except that `always`
 * comes back when hakod starts, as docker documents.
 */
import { processAlive, type OciProcess, type OciRuntime } from '../../runtime/index.js';
import { InvalidArgument } from '../../errdefs/index.js';
import type { Json } from '../contract.js';
import type { ContainerControl, ContainerExtension } from '../extensions.js';
import type { ContainerHealth, ContainerRecord } from '../containers/record.js';
import {
  healthSettingsOf, nextBackoff, parseOnFailure, parseRestartPolicy, policyRestarts, policyRestartsAtBoot, validateHealthcheck,
  type HealthSettings,
} from './policy.js';
import { containerProcess, runProbe, type ProbeResult } from './probe.js';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
const HEALTH_FILTER_VALUES = new Set(['starting', 'healthy', 'unhealthy', 'none']);
/** docker keeps this many probe results. */
const MAX_LOG_ENTRIES = 5;

/** What supervision keeps per container while hakod runs. */
interface Watch {
  /** The running check, stopped when the container stops. */
  monitor: { stop(): void } | null;
  /** The last restart delay (0: none yet). */
  backoffMs: number;
  /** A restart waiting for its delay. */
  pending: NodeJS.Timeout | null;
  /** When the current run started (for the backoff reset). */
  startedAt: number;
  /** The `started` hook ran for this run (a failed start schedules no restart). */
  running: boolean;
  /** The next stop comes from --health-on-failure restart: restart whatever the policy. */
  forceRestart: boolean;
  /** startAsEngine is starting it: the start is not a user's (keep the backoff). */
  engineStart: boolean;
}

export interface SupervisorOptions {
  runtime: OciRuntime;
  logger: { warn(msg: string): void; debug(msg: string): void };
}

export class Supervisor implements ContainerExtension {
  readonly name = 'supervision';
  readonly updateKeys = ['RestartPolicy'] as const;
  readonly #o: SupervisorOptions;
  #control: ContainerControl | null = null;
  readonly #watches = new Map<string, Watch>();
  #shuttingDown = false;

  constructor(opts: SupervisorOptions) {
    this.#o = opts;
  }

  get #c(): ContainerControl {
    if (!this.#control) throw new Error('supervision: used before the container service bound it');
    return this.#control;
  }

  #watch(id: string): Watch {
    let w = this.#watches.get(id);
    if (!w) {
      w = { monitor: null, backoffMs: 0, pending: null, startedAt: 0, running: false, forceRestart: false, engineStart: false };
      this.#watches.set(id, w);
    }
    return w;
  }

  bindControl(control: ContainerControl): void {
    this.#control = control;
  }

  create(rec: ContainerRecord): void {
    validateHealthcheck(rec.Config.Healthcheck as Json | null | undefined);
    parseOnFailure(rec.Config.Labels as Record<string, string> | null);
    const policy = parseRestartPolicy(rec.HostConfig.RestartPolicy);
    if (rec.HostConfig.AutoRemove && policy.Name !== 'no') {
      throw new InvalidArgument("can't create 'AutoRemove' container with restart policy");
    }
    rec.HostConfig.RestartPolicy = policy;
  }

  started(rec: ContainerRecord): void {
    const w = this.#watch(rec.Id);
    if (w.pending) clearTimeout(w.pending);
    w.pending = null;
    if (!w.engineStart) w.backoffMs = 0; // a user's start: the policy starts afresh
    w.engineStart = false;
    w.forceRestart = false;
    w.running = true;
    w.startedAt = Date.now();
    this.#startHealth(rec, w);
  }

  stopped(rec: ContainerRecord): void {
    const w = this.#watch(rec.Id);
    w.monitor?.stop();
    w.monitor = null;
    if (!w.running) return; // a start that failed: nothing ran, nothing to restart
    w.running = false;
    if (this.#shuttingDown) return;
    const policy = parseRestartPolicy(rec.HostConfig.RestartPolicy);
    const forced = w.forceRestart && !rec.ManuallyStopped;
    w.forceRestart = false;
    if (!forced && !policyRestarts(policy, rec.State.ExitCode, rec.RestartCount, Boolean(rec.ManuallyStopped))) return;
    w.backoffMs = nextBackoff(w.backoffMs, Date.now() - w.startedAt);
    rec.RestartCount++;
    rec.State = { ...rec.State, Status: 'restarting', Restarting: true };
    this.#c.save(rec);
    this.#o.logger.debug(`container ${rec.Id}: restarting in ${w.backoffMs} ms (restart ${rec.RestartCount})`);
    w.pending = setTimeout(() => void this.#restartNow(rec.Id), w.backoffMs);
  }

  async #restartNow(id: string): Promise<void> {
    const w = this.#watch(id);
    w.pending = null;
    const rec = this.#c.find(id);
    if (!rec || rec.Id !== id || this.#shuttingDown) return;
    // The user stopped it (or started it) meanwhile.
    if (rec.ManuallyStopped || rec.State.Running || !rec.State.Restarting) return;
    w.engineStart = true;
    try {
      await this.#c.startAsEngine(id);
    } catch (err) {
      w.engineStart = false;
      this.#o.logger.warn(`container ${id}: restart by its restart policy failed: ${(err as Error).message}`);
      rec.State = { ...rec.State, Status: 'exited', Restarting: false };
      this.#c.save(rec);
    }
  }

  removed(rec: ContainerRecord): void {
    const w = this.#watches.get(rec.Id);
    if (!w) return;
    w.monitor?.stop();
    if (w.pending) clearTimeout(w.pending);
    this.#watches.delete(rec.Id);
  }

  async restored(rec: ContainerRecord): Promise<void> {
    if (rec.State.Running) {
      // Adopted: check its health again from now on. As docker's initHealthMonitor on restore:
      // `starting` with no failing streak, the persisted log kept.
      const w = this.#watch(rec.Id);
      w.running = true;
      w.startedAt = Date.parse(rec.State.StartedAt) || Date.now();
      this.#startHealth(rec, w);
      return;
    }
    if (rec.State.Status === 'removing' || rec.State.Status === 'dead') return;
    const policy = parseRestartPolicy(rec.HostConfig.RestartPolicy);
    const restart = rec.State.Status !== 'created' && policyRestartsAtBoot(policy, rec.State.ExitCode, Boolean(rec.ManuallyStopped));
    if (rec.State.Restarting) {
      rec.State = { ...rec.State, Status: 'exited', Restarting: false };
      this.#c.save(rec);
    }
    if (!restart) return;
    // In the background: hakod answers at once; the containers come up as they can.
    if (policy.Name === 'always') rec.ManuallyStopped = false;
    const w = this.#watch(rec.Id);
    w.engineStart = true;
    void this.#c.startAsEngine(rec.Id).catch((err: Error) => {
      w.engineStart = false;
      this.#o.logger.warn(`container ${rec.Id}: start by its restart policy after the daemon restart failed: ${err.message}`);
    });
  }

  update(rec: ContainerRecord, body: Json): void {
    const raw = body.RestartPolicy as Json | null | undefined;
    if (!raw || (raw.Name === undefined || raw.Name === '') && !raw.MaximumRetryCount) return;
    const policy = parseRestartPolicy(raw);
    if (rec.HostConfig.AutoRemove && policy.Name !== 'no') {
      throw new InvalidArgument('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    rec.HostConfig.RestartPolicy = policy;
  }

  inspect(rec: ContainerRecord, view: Json): void {
    const state = view.State as Json;
    // Waiting out its backoff, the container is "running" to the API, as docker's SetRestarting
    // makes it (Running and Restarting both true, Pid 0); inside hakod State.Running stays the
    // process's liveness, which every start/stop/kill/rm decision reads.
    if (rec.State.Restarting) state.Running = true;
    const h = rec.Health;
    if (!h) return;
    state.Health = { Status: h.Status, FailingStreak: h.FailingStreak, Log: h.Log.map((r) => ({ ...r })) };
  }

  summary(rec: ContainerRecord, row: Json): void {
    const h = rec.Health;
    if (!h || !rec.State.Running || rec.State.Paused) return;
    row.Status = `${String(row.Status)} (${h.Status === 'starting' ? 'health: starting' : h.Status})`;
  }

  matches(rec: ContainerRecord, filters: Record<string, string[]>): boolean {
    const wanted = filters.health;
    if (!wanted?.length) return true;
    for (const v of wanted) {
      if (!HEALTH_FILTER_VALUES.has(v)) throw new InvalidArgument(`Unrecognised filter value for health: ${v}`);
    }
    const h = rec.State.Running ? rec.Health : undefined;
    return wanted.includes(h ? h.Status : 'none');
  }

  /**
   * hakod is going down: no more checks or restarts. Unless live-restore is on, every running
   * container is stopped gracefully (its stop signal, then SIGKILL after its timeout), in
   * parallel; these stops are not the user's, so restart policies apply at the next start.
   */
  async shutdown(opts: { stopContainers: boolean }): Promise<void> {
    this.#shuttingDown = true;
    for (const w of this.#watches.values()) {
      w.monitor?.stop();
      w.monitor = null;
      if (w.pending) clearTimeout(w.pending);
      w.pending = null;
    }
    if (!this.#control || !opts.stopContainers) return;
    const running = this.#c.all().filter((r) => r.State.Running);
    await Promise.all(running.map((r) =>
      this.#c.stopAsEngine(r.Id).catch((err: Error) => this.#o.logger.warn(`shutdown: stopping ${r.Id}: ${err.message}`))));
  }

  /**
   * How long a shutdown that stops containers may take (dockerd's ShutdownTimeout): at least
   * `baseMs`, and each running container's stop timeout plus 5 s; -1 when one waits forever.
   */
  shutdownGraceMs(baseMs: number): number {
    if (baseMs < 0) return -1;
    let grace = baseMs;
    for (const r of this.#control?.all() ?? []) {
      if (!r.State.Running) continue;
      const t = typeof r.Config.StopTimeout === 'number' ? r.Config.StopTimeout : 10;
      if (t < 0) return -1;
      grace = Math.max(grace, (t + 5) * 1000);
    }
    return grace;
  }

  close(): void {
    this.#shuttingDown = true;
    for (const w of this.#watches.values()) {
      w.monitor?.stop();
      if (w.pending) clearTimeout(w.pending);
    }
  }

  // --- health ---------------------------------------------------------------------------------

  #startHealth(rec: ContainerRecord, w: Watch): void {
    w.monitor?.stop();
    w.monitor = null;
    let settings: HealthSettings | null;
    try {
      settings = healthSettingsOf(rec.Config);
    } catch (err) {
      this.#o.logger.warn(`container ${rec.Id}: health check not run: ${(err as Error).message}`);
      settings = null;
    }
    if (!settings) {
      if (rec.Health) {
        delete rec.Health;
        this.#c.save(rec);
      }
      return;
    }
    const s = settings;
    // Each run (and each adoption after a hakod restart) starts over as `starting` with no
    // failing streak; the log of earlier runs stays (docker's initHealthMonitor).
    rec.Health = { Status: 'starting', FailingStreak: 0, Log: rec.Health?.Log ?? [] };
    const health = rec.Health;
    this.#c.save(rec);
    const startedAt = Date.parse(rec.State.StartedAt) || Date.now();
    let timer: NodeJS.Timeout | null = null;
    let stopped = false;
    let base: Promise<OciProcess> | null = null;
    const interval = (): number =>
      Date.now() - startedAt < s.startPeriodMs && health.Status === 'starting' ? s.startIntervalMs : s.intervalMs;
    const schedule = (): void => {
      if (stopped) return;
      timer = setTimeout(() => void tick(), interval());
      timer.unref();
    };
    const tick = async (): Promise<void> => {
      timer = null;
      if (stopped) return;
      if (rec.State.Paused) return schedule(); // a frozen container cannot answer; docker skips too
      base ??= containerProcess(this.#c.bundleDir(rec));
      let result: ProbeResult;
      try {
        result = await this.#probe(rec, await base, s);
      } catch (err) {
        base = null;
        const now = new Date().toISOString();
        result = { Start: now, End: now, ExitCode: -1, Output: (err as Error).message };
      }
      // A probe cut short by the container's own exit says nothing of its health: docker drops it.
      // The exit may not be handled yet (conmon is recording it): then the main process is gone.
      if (stopped || !rec.State.Running) return;
      if (result.ExitCode !== 0 && !(await processAlive(rec.State.Pid))) return;
      if (stopped || !rec.State.Running) return;
      this.#record(rec, health, s, result, startedAt);
      schedule();
    };
    w.monitor = {
      stop() {
        stopped = true;
        if (timer) clearTimeout(timer);
      },
    };
    schedule();
  }

  async #probe(rec: ContainerRecord, base: OciProcess, s: HealthSettings): Promise<ProbeResult> {
    // dockerd runs checks as execs, and they show as such in the event stream.
    const execId = randomHex(32);
    const cmd = s.argv.join(' ');
    this.#c.publish(rec, `exec_create: ${cmd}`, { execID: execId });
    this.#c.publish(rec, `exec_start: ${cmd}`, { execID: execId });
    const result = await runProbe(this.#o.runtime, rec.Id, base, s.argv, s.timeoutMs);
    this.#c.publish(rec, 'exec_die', { execID: execId, exitCode: String(result.ExitCode) });
    return result;
  }

  #record(rec: ContainerRecord, h: ContainerHealth, s: HealthSettings, result: ProbeResult, startedAt: number): void {
    const old = h.Status;
    h.Log.push(result);
    if (h.Log.length > MAX_LOG_ENTRIES) h.Log.splice(0, h.Log.length - MAX_LOG_ENTRIES);
    if (result.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      // Failures while still starting and within the start period do not count.
      const inStartPeriod = h.Status === 'starting' && Date.parse(result.Start) - startedAt < s.startPeriodMs;
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= s.retries) h.Status = 'unhealthy';
      }
    }
    // Every result is kept on disk, as docker checkpoints the container after each probe.
    if (rec.Health === h && this.#c.find(rec.Id) === rec) this.#c.save(rec);
    if (h.Status === old) return;
    this.#c.publish(rec, `health_status: ${h.Status}`);
    if (h.Status === 'unhealthy') void this.#onUnhealthy(rec, s);
  }

  /** --health-on-failure: what Podman does, for users who asked Docker for years (moby#28400). */
  async #onUnhealthy(rec: ContainerRecord, s: HealthSettings): Promise<void> {
    if (s.onFailure === 'none' || this.#shuttingDown) return;
    const w = this.#watch(rec.Id);
    this.#o.logger.debug(`container ${rec.Id} is unhealthy: health-on-failure ${s.onFailure}`);
    try {
      if (s.onFailure === 'kill') {
        // As a crash: the restart policy decides what follows.
        await this.#c.killAsEngine(rec.Id, 'SIGKILL');
      } else if (s.onFailure === 'stop') {
        // As the user's stop: it stays stopped.
        await this.#c.stopAsEngine(rec.Id, { byUser: true });
      } else {
        // Restarted whatever the policy, after the policy's backoff.
        w.forceRestart = true;
        await this.#c.stopAsEngine(rec.Id);
      }
    } catch (err) {
      this.#o.logger.warn(`container ${rec.Id}: health-on-failure ${s.onFailure}: ${(err as Error).message}`);
    }
  }
}

function randomHex(n: number): string {
  let out = '';
  while (out.length < n) out += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, n);
}
