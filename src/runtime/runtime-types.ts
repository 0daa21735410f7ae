/** The OciRuntime interface: what engine/ needs from a container runtime, implementation-free. */
import type { Readable, Writable } from 'node:stream';
import type { OciProcess, OciResources, OciSpec } from './oci-types.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface CreateOptions {
  /** The bundle directory: config.json is written here; conmon puts attach, ctl, winsz here. */
  bundleDir: string;
  spec: OciSpec;
  /** k8s-file log path (conmon's format, read by logs/); null for the `none` log driver. */
  logPath: string | null;
  terminal: boolean;
  /** Keep a stdin pipe for attach (`-i`). */
  stdin: boolean;
  /**
   * Docker's StdinOnce: close the container's stdin when the first attached client detaches.
   * Default true; false keeps stdin open across attaches (conmon --leave-stdin-open).
   */
  stdinOnce?: boolean;
  /** Container name, for conmon's logs. */
  name?: string;
  signal?: AbortSignal;
  /**
   * Called once the monitor is spawned, while runc creates the container (tens of ms): work that
   * may run beside that (a network namespace's configuration) starts here, not on the way to it.
   */
  onMonitorStarted?: () => void;
}

export interface RuntimeState {
  status: ContainerStatus;
  pid: number;
}

export interface ExitInfo {
  exitCode: number;
  exitedAt: Date;
  /** conmon saw an OOM kill in the container's cgroup. */
  oomKilled: boolean;
}

/** A connection to a container's stdio through conmon. */
export interface AttachStream {
  /** Output from the container: stream 1 = stdout (also the tty), 2 = stderr. */
  onData(listener: (stream: 1 | 2, data: Buffer) => void): void;
  /** Called once when conmon closes the connection (the container exited) or on close(). */
  onEnd(listener: () => void): void;
  /** Resolves once the data is handed to the kernel (back-pressure for the caller). */
  writeStdin(data: Buffer): Promise<void>;
  /** Half-closes: conmon closes the container's stdin (unless it was created with stdinOnce false). */
  closeStdin(): void;
  close(): void;
}

export interface ExecOptions {
  tty: boolean;
  stdin: boolean;
  /** `exec -d`: runc returns once the process runs; no stdio, `exited` resolves with 0. */
  detach: boolean;
  /** Initial tty size. */
  consoleSize?: { height: number; width: number };
}

export interface ExecHandle {
  /** stdout (with a tty: the terminal's output) or null when detached. */
  stdout: Readable | null;
  /** null with a tty (stderr goes to the terminal) or when detached. */
  stderr: Readable | null;
  /** null unless `stdin` was asked for. */
  stdin: Writable | null;
  /** Resizes the exec's terminal; a no-op without a tty. */
  resize(height: number, width: number): void;
  /** The process's exit code; 126/127 when it could not be invoked or found, as Docker. */
  exited: Promise<number>;
  /** runc's message when the process could not be started (then exited is 126, 127 or 255). */
  readonly startError: string | null;
  /**
   * Signals the exec'd process itself (not runc, which would orphan it): health-check timeouts.
   * Absent where the runtime cannot; a no-op once the process has exited.
   */
  kill?(signal: NodeJS.Signals | number): Promise<void>;
}

export interface OciRuntime {
  create(id: string, opts: CreateOptions): Promise<{ pid: number }>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string | number, opts?: { all?: boolean }): Promise<void>;
  /** `exited`: the caller knows the process exited (its exit is recorded): no need to look again. */
  delete(id: string, opts?: { force?: boolean; exited?: boolean }): Promise<void>;
  /** Whether the runtime still keeps state for this container (so delete has work to do). */
  holds(id: string): Promise<boolean>;
  state(id: string): Promise<RuntimeState | null>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  ps(id: string): Promise<number[]>;
  update(id: string, resources: Omit<OciResources, 'devices'>): Promise<void>;
  exitCode(id: string): Promise<number | null>;
  exitInfo(id: string): Promise<ExitInfo | null>;
  /** One watcher for all containers; calls onExit(id) when a container's exit file appears. */
  watchExits(onExit: (id: string) => void): () => void;
  attach(id: string): Promise<AttachStream>;
  resize(id: string, height: number, width: number): Promise<void>;
  reopenLog(id: string): Promise<void>;
  exec(id: string, process: OciProcess, opts: ExecOptions): Promise<ExecHandle>;
  /** Container ids runc knows (after a daemon restart). */
  listKnown(): Promise<string[]>;
  /** Whether the container's conmon is still alive (false when unknown). */
  monitorAlive(id: string): Promise<boolean>;
}
