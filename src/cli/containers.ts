/**
 * What several container commands share: creating with pull-on-missing, docker's mapping of
 * start errors to exit codes, the attach-wait-start sequence of `run` and `start -a`, signal
 * proxying, and docker's "do this to each name" loops with its error reporting.
 */
import type { Writable } from 'node:stream';
import type { Client, ContainerCreateResponse } from '../client/index.js';
import type { Cli } from './cli.js';
import { StatusError, withHelp } from './errors.js';
import { streamConnection } from './attachio.js';
import { monitorSize } from './tty.js';

/** `Error response from daemon: ...` for daemon errors, the bare message otherwise. */
export function errorText(e: unknown): string {
  const err = e as Error;
  if (err?.name === 'ClientError') return `Error response from daemon: ${err.message}`;
  return err?.message ?? String(e);
}

/**
 * docker's toStatusError(): 127 when the command was not found, 126 when it could not be invoked,
 * 125 for any other failure of the engine.
 */
export function toStatusError(e: unknown, commandPath: string): StatusError {
  if (e instanceof StatusError) return e;
  const text = errorText(e);
  let status = 125;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(text)) status = 127;
  else if (/permission denied|is a directory/.test(text)) status = 126;
  return new StatusError(status, withHelp(text, commandPath));
}

/** docker's reference.TagNameOnly + FamiliarString, enough for messages: "busybox" -> "busybox:latest". */
export function withDefaultTag(ref: string): string {
  if (ref.includes('@')) return ref;
  const slash = ref.lastIndexOf('/');
  return ref.slice(slash + 1).includes(':') ? ref : `${ref}:latest`;
}

function splitTag(ref: string): [string, string | undefined] {
  if (ref.includes('@')) return [ref, undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

/** Pulls with progress on `out` (stderr for run/create, whose stdout is the container's). */
export async function pullImage(cli: Cli, client: Client, ref: string, opts: { quiet?: boolean; platform?: string; out?: Writable } = {}): Promise<void> {
  // Loaded only when a pull happens: `run` of a present image does not pay for them.
  const [{ registryAuthHeader }, { displayProgress }, { nullWriter }] = await Promise.all([
    import('./credentials.js'), import('./progress.js'), import('./io.js'),
  ]);
  const [image, tag] = splitTag(ref);
  const res = await client.imagePull(image, tag, { platform: opts.platform, registryAuth: registryAuthHeader(image) });
  const out = opts.out ?? cli.stderr;
  await displayProgress(res, opts.quiet ? nullWriter() : out, { tty: Boolean((out as { isTTY?: boolean }).isTTY) });
}

export interface CreateOptions {
  name?: string;
  platform?: string;
  pull: string;
  quiet: boolean;
  cidfile?: string;
}

/** docker's createContainer(): create, pulling the image once if it is missing (--pull=missing). */
export async function createContainer(cli: Cli, client: Client, body: Record<string, unknown>, opts: CreateOptions): Promise<string> {
  const image = String(body['Image']);
  if (opts.cidfile) {
    const { existsSync } = await import('node:fs');
    if (existsSync(opts.cidfile)) throw new Error(`container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`);
  }
  if (opts.pull === 'always') await pullImage(cli, client, image, opts);
  let res: ContainerCreateResponse;
  try {
    res = await client.containerCreate(body, { name: opts.name || undefined, platform: opts.platform || undefined });
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status !== 404 || opts.pull !== 'missing' || !/image/i.test((e as Error).message)) throw e;
    if (!opts.quiet) cli.err(`Unable to find image '${withDefaultTag(image)}' locally`);
    await pullImage(cli, client, image, opts);
    res = await client.containerCreate(body, { name: opts.name || undefined, platform: opts.platform || undefined });
  }
  for (const w of res.Warnings ?? []) cli.err(`WARNING: ${w}`);
  if (opts.cidfile) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(opts.cidfile, res.Id);
  }
  return res.Id;
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** docker's ForwardAllSignals: signals the CLI receives go to the container. */
export function proxySignals(client: Client, id: string): () => void {
  const handlers = PROXIED_SIGNALS.map((sig) => {
    const h = (): void => { client.containerKill(id, sig).catch(() => {}); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => { for (const [sig, h] of handlers) process.off(sig, h); };
}

export interface AttachRunOptions {
  id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
  autoRemove: boolean;
  sigProxy: boolean;
  /** Maps a start failure to the error thrown (run: toStatusError; start: as is). */
  onStartError: (e: unknown) => Error;
}

/** How long to wait for the daemon to acknowledge a wait before starting anyway. */
const WAIT_REGISTER_MS = 1000;
const AUTOREMOVE_WAIT_MS = 5000;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/**
 * attach, then wait (next-exit, or removed for --rm), then start; stream until the output ends
 * or the user detaches; answer the container's exit status (0 after a detach).
 */
export async function attachWaitStart(cli: Cli, client: Client, o: AttachRunOptions): Promise<number> {
  // The wait goes out beside the attach, not after it: one round trip less before the start.
  const waitAbort = new AbortController();
  const wait = client.containerWait(o.id, o.autoRemove ? 'removed' : 'next-exit', waitAbort.signal);
  wait.result.catch(() => {});
  let conn;
  try {
    conn = await client.containerAttach(o.id, {
      stream: true, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, detachKeys: o.detachKeys,
    });
  } catch (e) {
    waitAbort.abort();
    throw e;
  }
  const streaming = streamConnection(cli, conn, o);
  await Promise.race([wait.registered, delay(WAIT_REGISTER_MS)]).catch(() => {});
  const stopSignals = o.sigProxy ? proxySignals(client, o.id) : () => {};
  let stopResize = (): void => {};
  try {
    try {
      await client.containerStart(o.id);
    } catch (e) {
      streaming.stop();
      conn.close();
      // docker waits for the daemon to remove an --rm container whose start failed; bounded here so
      // a daemon that keeps it cannot hang the CLI.
      if (o.autoRemove) await Promise.race([wait.result.catch(() => {}), delay(AUTOREMOVE_WAIT_MS)]);
      waitAbort.abort();
      throw o.onStartError(e);
    }
    if (o.tty) stopResize = monitorSize(cli, (h, w) => client.containerResize(o.id, h, w));
    const end = await streaming.done;
    if (end === 'detached') {
      waitAbort.abort();
      conn.close();
      return 0;
    }
    const result = await wait.result;
    if (result.Error?.Message) {
      cli.err(result.Error.Message);
      return 125;
    }
    return result.StatusCode;
  } finally {
    stopResize();
    stopSignals();
    conn.close();
  }
}

/**
 * docker's loop of rm, stop, network rm …: runs `op` on each name, prints `print(name)` (the name
 * by default; null prints nothing) on success and the error at once otherwise. Errors `ignore`
 * accepts (a 404 under `-f`) print nothing and fail nothing. Answers the exit status.
 */
export async function forEachName(
  cli: Cli,
  names: string[],
  op: (name: string) => Promise<unknown>,
  opts: { print?: (name: string) => string | null; ignore?: (e: unknown) => boolean } = {},
): Promise<number> {
  const print = opts.print ?? ((n) => n);
  let failed = false;
  for (const name of names) {
    try {
      await op(name);
      const line = print(name);
      if (line !== null) cli.out(line);
    } catch (e) {
      if (opts.ignore?.(e)) continue;
      cli.err(errorText(e));
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

/**
 * docker's loop of volume rm and rmi: runs `op` (which prints what succeeded) on each name and
 * answers the error lines, which those commands print together after the loop. Errors `ignore`
 * accepts are dropped.
 */
export async function errorsOfEach(
  names: string[],
  op: (name: string) => Promise<unknown>,
  ignore: (e: unknown) => boolean = () => false,
): Promise<string[]> {
  const errors: string[] = [];
  for (const name of names) {
    try {
      await op(name);
    } catch (e) {
      if (!ignore(e)) errors.push(errorText(e));
    }
  }
  return errors;
}
