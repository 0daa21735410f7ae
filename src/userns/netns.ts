/**
 * Network namespaces for remapped containers. A container that joins a network namespace must
 * hold CAP_SYS_ADMIN in the user namespace that owns it — also for every `exec`, where runc
 * enters the container's user namespace first. So under userns-remap the engine's network
 * namespaces are owned by the daemon's remap user namespace (which the containers join), not
 * by the host's: a helper enters that user namespace and unshares a network namespace, hakod
 * binds it at its usual path, and configures it from the host as for any other container.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { LinuxNetHost } from '../network/index.js';
import { native, MS_BIND } from '../native/index.js';

export class RemappedNetHost extends LinuxNetHost {
  readonly #usernsPath: string;

  /** `usernsPath`: the remap user namespace, e.g. /proc/<hakod>/fd/<n>. */
  constructor(usernsPath: string) {
    super();
    this.#usernsPath = usernsPath;
  }

  override async createNetns(nsPath: string): Promise<void> {
    await (await open(nsPath, 'w', 0o444)).close();
    try {
      await this.#bindNewNetns(nsPath);
    } catch (err) {
      await this.removeNetns(nsPath);
      throw err;
    }
  }

  async #bindNewNetns(nsPath: string): Promise<void> {
    // nsenter execs unshare, which execs sh: one pid, whose netns is the new one once it speaks.
    const child = spawn('nsenter', [`--user=${this.#usernsPath}`, '--', 'unshare', '--net', '--', '/bin/sh', '-c', 'echo ready; exec cat'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      await Promise.race([
        once(child.stdout!, 'data'),
        once(child, 'error').then(([e]) => { throw e as Error; }),
        once(child, 'exit').then(() => { throw new Error(`network namespace in the remap user namespace: ${stderr.trim() || 'the helper exited'}`); }),
      ]);
      native().mount(`/proc/${child.pid}/ns/net`, nsPath, '', MS_BIND, '');
    } finally {
      child.stdin!.end();
      child.kill('SIGKILL');
    }
  }
}
