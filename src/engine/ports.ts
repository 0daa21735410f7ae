/**
 * What the engine needs from the subsystems below it, in the engine's own terms. daemon/wire.ts
 * adapts storage/, images/, runtime/ and logs/ to these; tests can wire real ones in a temp root.
 */
import type { Readable } from 'node:stream';
import type { Json, OutputChunk } from './contract.js';
import type { ImageRuntimeConfig } from './containers/create-config.js';

export interface ResolvedImage {
  id: string;
  chainId: string | null;
  config: ImageRuntimeConfig;
  /** The OCI platform of the image, e.g. "linux". */
  os: string;
}

export interface ImagePort {
  /** NotFound `No such image: x` when absent. */
  resolve(ref: string): Promise<ResolvedImage>;
  /** Image ids an `ancestor=` filter names: the image and every image built on it (none if unknown). */
  ancestorIds(ref: string): Set<string>;
  /** A new image from a container's changes on top of its image. */
  commit(opts: {
    parentId: string; layerTar: Readable | null; config: Json; comment?: string; author?: string;
    changes?: string[]; repo?: string; tag?: string; container?: string; createdBy?: string;
  }): Promise<{ Id: string }>;
}

export interface RootfsPort {
  /** Mounts (idempotently) the container's overlay rootfs under containerDir; returns its path. */
  /**
   * `volatile`: the upper dir is never synced (an --rm container's: it is thrown away).
   * `idmap: false`: under userns-remap, layers not idmapped (a `--userns=host` container).
   */
  mount(chainId: string | null, containerDir: string, opts?: { initDir?: string; volatile?: boolean; idmap?: boolean }): Promise<string>;
  unmount(containerDir: string): Promise<void>;
  lowerDirs(chainId: string | null): string[];
  /** docker diff: changes in the container's upper dir. */
  changes(upperDir: string, lowerDirs: string[]): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>>;
  /**
   * The upper dir as an image layer tar (commit). Under userns-remap the tars of this port carry
   * the container's ids; `unmapped`: a `--userns=host` container's, whose files have real ids.
   */
  layerTar(upperDir: string, lowerDirs: string[], opts?: { unmapped?: boolean }): Readable;
  /** A tar of a directory or file (export, cp out); `name` renames the top entry. */
  tarPath(path: string, opts: { name?: string; unmapped?: boolean }): Readable;
  /**
   * Extracts a tar onto a directory (cp in), refusing anything that lands outside it. With
   * `noOverwriteDirNonDir`, no entry may replace a directory by a non-directory or the reverse
   * (`shownAs`: the directory's container path, for the error). With `owner` (cp -a: the
   * container's user, in the container's ids) every entry gets that owner.
   */
  extractTar(tar: Readable, dir: string, opts?: { noOverwriteDirNonDir?: { shownAs: string }; owner?: { uid: number; gid: number }; unmapped?: boolean }): Promise<void>;
}

export interface RuntimeUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home?: string;
}
export interface LogPort {
  read(logPath: string, hostConfig: Json, opts: {
    follow: boolean; tail: number | 'all'; since: number; until: number; stdout: boolean; stderr: boolean;
    signal?: AbortSignal; stopWhen?: Promise<unknown>;
  }): AsyncIterable<OutputChunk>;
  /** Starts size-based rotation when the log options ask for it; returns a stopper. */
  rotate(logPath: string, hostConfig: Json, reopen: () => Promise<void>): (() => void) | null;
  /** InvalidArgument for a driver or option hako does not support. */
  validate(hostConfig: Json): void;
  remove(logPath: string, hostConfig: Json): Promise<void>;
}
