/**
 * The embedded default: when nothing answers on the default socket, start hakod in the
 * background (detached, its output to <exec root>/hakod.log) and wait until it answers /_ping.
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
  mkdirSync(execRoot, { recursive: true });
  // dist/src/cli/embedded.js -> <package>/bin/hakod
  const hakod = fileURLToPath(new URL('../../../bin/hakod', import.meta.url));
  const log = openSync(join(execRoot, 'hakod.log'), 'a');
  try {
    const child = spawn(process.execPath, [hakod], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  let delay = 10;
  for (;;) {
    try {
      await client.ping();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
