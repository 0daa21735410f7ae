/**
 * The embedded default: when nothing answers on the default socket, start hakod in the
 * background (detached, its output to <exec root>/hakod.log) and wait until it answers /_ping.
 * If it cannot start, the user sees docker's "Cannot connect" message plus where the log is.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '../client/index.js';
import { socketPathOf } from '../client/index.js';

const START_TIMEOUT_MS = 5000;

export async function startEmbeddedDaemon(client: Client): Promise<void> {
  const execRoot = dirname(socketPathOf(client.host));
  const logPath = join(execRoot, 'hakod.log');
  const unreachable = (why: string): Error =>
    new Error(`Cannot connect to the hako daemon at ${client.host}. Is the hako daemon running?\n(starting hakod failed: ${why})`);
  let exited: string | null = null;
  try {
    mkdirSync(execRoot, { recursive: true });
    // dist/src/cli/embedded.js -> <package>/bin/hakod
    const hakod = fileURLToPath(new URL('../../../bin/hakod', import.meta.url));
    const log = openSync(logPath, 'a');
    try {
      const child = spawn(process.execPath, [hakod], { detached: true, stdio: ['ignore', log, log] });
      child.once('exit', (code, signal) => { exited = `hakod exited (${signal ?? code}); see ${logPath}`; });
      child.once('error', (e) => { exited = e.message; });
      child.unref();
    } finally {
      closeSync(log);
    }
  } catch (e) {
    throw unreachable((e as Error).message);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  let delay = 10;
  for (;;) {
    try {
      await client.ping();
      return;
    } catch {
      if (exited !== null) throw unreachable(exited);
      if (Date.now() > deadline) throw unreachable(`no answer within ${START_TIMEOUT_MS / 1000}s; see ${logPath}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
