/**
 * Tests that need the Debian mirror (debootstrap, `apt-get install` in RUN steps) ask here once
 * per process whether they can run. The mirror is the host's own apt mirror (what
 * `hako image bootstrap` uses by default). When it is down, or debootstrap is not installed, they
 * SKIP with a message saying so, so CI states it instead of failing or passing silently:
 *
 *   describe('...', { skip: await debianMirrorSkip() }, () => { ... })
 */
import { accessSync, constants } from 'node:fs';
import { hostDebianMirror } from '../../src/build/index.js';

let checked: Promise<string | false> | undefined;

/** false when the mirror answers and debootstrap is installed; else why the tests are skipped. */
export function debianMirrorSkip(suite = 'bookworm'): Promise<string | false> {
  checked ??= (async () => {
    const mirror = (await hostDebianMirror('/etc/apt')).replace(/\/+$/, '');
    const url = `${mirror}/dists/${suite}/Release`;
    try {
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) return `Debian mirror unreachable: HEAD ${url} answered ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return `Debian mirror unreachable: HEAD ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
    }
    const found = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap', '/sbin/debootstrap'].some((p) => {
      try { accessSync(p, constants.X_OK); return true; } catch { return false; }
    });
    if (!found) return 'debootstrap is not installed: apt-get install debootstrap';
    return false;
  })();
  return checked;
}

/** The mirror the tests use (the host's apt mirror). */
export async function debianMirror(): Promise<string> {
  return (await hostDebianMirror('/etc/apt')).replace(/\/+$/, '');
}
