/**
 * A python3 peer for the socket tests: Node cannot listen on SOCK_SEQPACKET or send fds, and the
 * point is to meet a real, independent implementation of the other end (as conmon and runc are).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface PythonPeer {
  child: ChildProcess;
  /** The next line the script prints. */
  line(): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs `script` with python3; it prints lines on stdout to say how far it got. */
export function startPython(script: string, args: string[] = []): PythonPeer {
  const child = spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    async line() {
      const next = await lines.next();
      if (next.done) throw new Error('python peer exited before printing a line');
      return next.value;
    },
    exited,
  };
}
