/**
 * One health probe: the check's argv run as an exec in the container (the container's own
 * process settings: user, env, working directory), with a timeout after which the process is
 * killed, as dockerd does (daemon/health.go: cmdProbe).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { OciProcess, OciRuntime } from '../../runtime/index.js';

/** docker's maxOutputLen: a probe's output is cut to this many bytes. */
export const MAX_OUTPUT = 4096;

export interface ProbeResult {
  Start: string;
  End: string;
  /** 0 healthy, 1 unhealthy; -1 when the probe timed out or could not run. */
  ExitCode: number;
  Output: string;
}

/** The process spec of the container's running process, read once per run from its bundle. */
export async function containerProcess(bundleDir: string): Promise<OciProcess> {
  const spec = JSON.parse(await readFile(join(bundleDir, 'config.json'), 'utf8')) as { process: OciProcess };
  return spec.process;
}

export async function runProbe(runtime: OciRuntime, id: string, base: OciProcess, argv: string[], timeoutMs: number): Promise<ProbeResult> {
  const start = new Date();
  const process: OciProcess = { ...base, args: argv, terminal: false };
  let handle;
  try {
    handle = await runtime.exec(id, process, { tty: false, stdin: false, detach: false });
  } catch (err) {
    return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: -1, Output: (err as Error).message };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const take = (s: Readable | null): Promise<void> =>
    new Promise((resolve) => {
      if (!s) return resolve();
      s.on('data', (d: Buffer) => {
        // Keep reading past the limit: a full pipe would block the check.
        if (size < MAX_OUTPUT) {
          const part = d.subarray(0, MAX_OUTPUT - size);
          chunks.push(part);
          size += part.length;
        }
      });
      s.once('end', resolve);
      s.once('error', () => resolve());
      s.once('close', () => resolve());
    });
  const drained = Promise.all([take(handle.stdout), take(handle.stderr)]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([handle.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await handle.kill?.('SIGKILL');
    // Wait for it to go, so dying probes do not pile up (as dockerd does).
    await handle.exited;
    handle.stdout?.destroy();
    handle.stderr?.destroy();
    return {
      Start: start.toISOString(),
      End: new Date().toISOString(),
      ExitCode: -1,
      Output: `Health check exceeded timeout (${formatGoDuration(timeoutMs)})`,
    };
  }
  await drained;
  let output = Buffer.concat(chunks).toString('utf8');
  if (handle.startError) output = output ? `${output}\n${handle.startError}` : handle.startError;
  return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: outcome, Output: output };
}

/** Go's time.Duration String() for whole milliseconds: 1.5s, 500ms, 2m0s. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = Number((totalS % 60).toFixed(3));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
