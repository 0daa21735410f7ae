/**
 * Access to the native addon for the few kernel calls Node lacks (mknod, xattrs, mount). It is
 * loaded lazily; code that can live without it (mount falls back to mount(8)) asks `tryNative`,
 * code that cannot asks `requireNative` and gets Unavailable naming what needed it.
 */
import { tryNative, type NativeAddon } from '../native/index.js';
import { Unavailable } from '../errdefs/index.js';

export { tryNative };

export function requireNative(what: string): NativeAddon {
  const addon = tryNative();
  if (!addon) {
    throw new Unavailable(`${what} needs hako's native addon (native/build/Release/hako_native.node), which is not built; run "npm install" (or "npx node-gyp rebuild" in native/)`);
  }
  return addon;
}

/** The errno name of a failed system call, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}
