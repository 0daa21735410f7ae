/**
 * Digests and chain IDs. A digest is `sha256:` + 64 lowercase hex digits
 * (OCI image-spec descriptor.md#digests); hako only produces and accepts sha256.
 */
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../errdefs/index.js';

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** True when `value` is a well-formed sha256 digest. */
export function isDigest(value: string): boolean {
  return SHA256_DIGEST.test(value);
}

/**
 * Returns the hex part of a sha256 digest, or throws InvalidArgument. Every digest that comes
 * from outside passes here before it becomes part of a path, so `sha256:../../x` never does.
 */
export function digestHex(digest: string): string {
  if (typeof digest !== 'string' || !SHA256_DIGEST.test(digest)) {
    const shown = String(digest).slice(0, 100);
    throw new InvalidArgument(`invalid digest "${shown}": expected "sha256:" followed by 64 lowercase hex digits`);
  }
  return digest.slice(7);
}

/** The sha256 digest of `data`. */
export function sha256Of(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/**
 * The chain ID of a layer on top of `parentChainId` (OCI image-spec config.md#layer-chainid):
 * ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function nextChainId(parentChainId: string | null, diffId: string): string {
  digestHex(diffId);
  if (parentChainId === null) return diffId;
  digestHex(parentChainId);
  return sha256Of(`${parentChainId} ${diffId}`);
}

/** The chain ID of the top layer of a stack of diff IDs, bottom first. */
export function chainIdOf(diffIds: readonly string[]): string {
  if (diffIds.length === 0) throw new InvalidArgument('chain ID of an empty layer list: an image needs at least one layer to have a chain ID');
  let chain: string | null = null;
  for (const diffId of diffIds) chain = nextChainId(chain, diffId);
  return chain as string;
}
