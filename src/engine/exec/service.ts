import type { Readable } from 'node:stream';
import { Conflict, InvalidArgument, NotFound } from '../../errdefs/index.js';
import type { ExecService, Json, OutputChunk, StdioSession } from '../contract.js';
import { AsyncQueue } from '../async.js';
import { newId, matchIdPrefix } from '../ids.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALL_CAPABILITIES, resolveUser, type ExecHandle, type OciRuntime, type OciProcess } from '../../runtime/index.js';
import type { Containers } from '../containers/service.js';
import type { ContainerRecord } from '../containers/record.js';

interface ExecRecord {
  id: string;
  containerId: string;
  config: {
    Cmd: string[]; Env: string[]; User: string; WorkingDir: string; Tty: boolean; Privileged: boolean;
    AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean; DetachKeys: string;
  };
  running: boolean;
  exitCode: number | null;
  pid: number;
  process: ExecHandle | null;
  canRemove: boolean;
}

/**
 * Exec instances: created, started once, inspected afterwards for their exit code. They live in
 * memory only, as docker's do (an exec does not survive its daemon).
 */
export class Execs implements ExecService {
  #execs = new Map<string, ExecRecord>();
  readonly #containers: Containers;
  readonly #runtime: OciRuntime;

  constructor(containers: Containers, runtime: OciRuntime) {
    this.#containers = containers;
    this.#runtime = runtime;
    containers.execIdsOf = (cid) => [...this.#execs.values()].filter((e) => e.containerId === cid && e.running).map((e) => e.id);
  }

  #get(id: string): ExecRecord {
    const rec = this.#execs.get(id) ?? this.#execs.get(matchIdPrefix(this.#execs.keys(), id, 'exec instance') ?? '');
    if (!rec) throw new NotFound(`No such exec instance: ${id}`);
    return rec;
  }

  async create(containerRef: string, body: Json): Promise<{ Id: string }> {
    const ctr = this.#containers.recordOf(containerRef);
    if (!ctr.State.Running) {
      // docker's errContainerIsRestarting: between two runs of its restart policy.
      throw new Conflict(ctr.State.Restarting ? `Container ${ctr.Id} is restarting, wait until the container is running` : `container ${ctr.Id} is not running`);
    }
    if (ctr.State.Paused) throw new Conflict(`Container ${ctr.Id} is paused, unpause the container before exec`);
    const cmd = body.Cmd;
    if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((c) => typeof c === 'string')) {
      throw new InvalidArgument('No exec command specified');
    }
    const env = (body.Env as string[] | null) ?? [];
    if (!Array.isArray(env)) throw new InvalidArgument('Env must be an array of strings');
    const id = newId();
    this.#execs.set(id, {
      id,
      containerId: ctr.Id,
      config: {
        Cmd: cmd as string[],
        Env: env,
        User: typeof body.User === 'string' ? body.User : '',
        WorkingDir: typeof body.WorkingDir === 'string' ? body.WorkingDir : '',
        Tty: Boolean(body.Tty),
        Privileged: Boolean(body.Privileged),
        AttachStdin: Boolean(body.AttachStdin),
        AttachStdout: Boolean(body.AttachStdout),
        AttachStderr: Boolean(body.AttachStderr),
        DetachKeys: typeof body.DetachKeys === 'string' ? body.DetachKeys : '',
      },
      running: false,
      exitCode: null,
      pid: 0,
      process: null,
      canRemove: false,
    });
    this.#containers.publish(ctr, `exec_create: ${(cmd as string[]).join(' ')}`, { execID: id });
    return { Id: id };
  }

  async start(execId: string, body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }): Promise<StdioSession | null> {
    const exec = this.#get(execId);
    if (exec.running || exec.exitCode !== null) throw new Conflict(`Error: Exec command ${exec.id} has already run`);
    const ctr = this.#containers.recordOf(exec.containerId);
    if (!ctr.State.Running) throw new Conflict(`container ${ctr.Id} is not running`);
    const c = exec.config;
    const tty = body.Tty ?? c.Tty;
    const detach = Boolean(body.Detach);
    exec.running = true;
    let proc: ExecHandle;
    try {
      const process = await this.#processFor(ctr, c, tty);
      const size = body.ConsoleSize;
      proc = await this.#runtime.exec(ctr.Id, process, {
        tty,
        stdin: c.AttachStdin && !detach,
        detach,
        ...(size && size[0] > 0 ? { consoleSize: { height: size[0], width: size[1] } } : {}),
      });
    } catch (err) {
      exec.running = false;
      exec.exitCode = 126;
      throw err;
    }
    exec.process = proc;
    const action = c.Cmd.join(' ');
    this.#containers.publish(ctr, `exec_start: ${action}`, { execID: exec.id });
    // Registered before the session exists, so the exit code is recorded before output ends.
    void proc.exited.then((code) => {
      exec.running = false;
      exec.exitCode = code;
      exec.process = null;
      this.#containers.publish(ctr, 'exec_die', { execID: exec.id, exitCode: String(code) });
    }, () => {
      exec.running = false;
      exec.exitCode = exec.exitCode ?? 126;
    });
    if (detach) return null;
    return execSession(proc, tty, c);
  }

  /** The container's process spec with the exec's command, env, user and directory in place. */
  async #processFor(ctr: ContainerRecord, c: ExecRecord['config'], tty: boolean): Promise<OciProcess> {
    const spec = JSON.parse(await readFile(join(this.#containers.bundleDir(ctr), 'config.json'), 'utf8')) as { process: OciProcess };
    const base = spec.process;
    const env = new Map<string, string>();
    for (const e of [...(base.env ?? []), ...c.Env]) env.set(e.split('=', 1)[0] ?? e, e);
    const process: OciProcess = { ...base, args: c.Cmd, env: [...env.values()], terminal: tty };
    if (c.WorkingDir) process.cwd = c.WorkingDir;
    if (c.User) {
      const u = await resolveUser(this.#containers.rootfsDir(ctr), c.User);
      process.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
    }
    if (c.Privileged) {
      const all = [...ALL_CAPABILITIES];
      process.capabilities = { bounding: all, effective: all, permitted: all };
    }
    return process;
  }

  async resize(execId: string, height: number, width: number): Promise<void> {
    const exec = this.#get(execId);
    if (!exec.process) throw new Conflict(`exec ${exec.id} is not running`);
    exec.process.resize(height, width);
  }

  async inspect(execId: string): Promise<Json> {
    const e = this.#get(execId);
    const [entrypoint, ...args] = e.config.Cmd;
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: e.config.Tty, entrypoint, arguments: args, privileged: e.config.Privileged, user: e.config.User },
      OpenStdin: e.config.AttachStdin,
      OpenStderr: e.config.AttachStderr,
      OpenStdout: e.config.AttachStdout,
      CanRemove: e.canRemove,
      ContainerID: e.containerId,
      DetachKeys: e.config.DetachKeys,
      Pid: e.pid,
    };
  }
}

/** Merges an exec's stdout and stderr into one session; it ends when both have ended. */
function execSession(proc: ExecHandle, tty: boolean, c: ExecRecord['config']): StdioSession {
  const output = new AsyncQueue<OutputChunk>();
  let open = 0;
  const pump = (stream: Readable | null, kind: 'stdout' | 'stderr', wanted: boolean): void => {
    if (!stream) return;
    open++;
    stream.on('data', (data: Buffer) => {
      if (!wanted) return;
      const p = output.push({ stream: kind, data });
      if (!output.ended) {
        stream.pause();
        void p.then(() => stream.resume());
      }
    });
    // The client asks for the exit code as soon as output ends: end it only once that is known.
    const done = (): void => {
      if (--open === 0) void proc.exited.finally(() => output.end());
    };
    stream.once('end', done);
    stream.once('error', done);
  };
  pump(proc.stdout, 'stdout', c.AttachStdout || tty);
  pump(proc.stderr, 'stderr', c.AttachStderr);
  if (open === 0) void proc.exited.finally(() => output.end());
  const input = proc.stdin as unknown as StdioSession['input'];
  return {
    tty,
    output,
    input: c.AttachStdin ? input : null,
    close: () => output.end(),
  };
}
