import { randomBytes } from 'node:crypto';
import { InvalidArgument, NotFound } from '../errdefs/index.js';

/** A new 64-hex id whose 12-char short form is never all digits (docker avoids the same ambiguity). */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}$/.test(id.slice(0, 12))) return id;
  }
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

const HEX = /^[0-9a-f]+$/;

/**
 * Finds the one id among `ids` that `prefix` names. An ambiguous prefix is an error, as docker's
 * truncindex: `multiple IDs found with provided prefix: 3f`.
 */
export function matchIdPrefix(ids: Iterable<string>, prefix: string, what: string): string | undefined {
  if (!HEX.test(prefix)) return undefined;
  let found: string | undefined;
  for (const id of ids) {
    if (!id.startsWith(prefix)) continue;
    if (found !== undefined) throw new InvalidArgument(`multiple IDs found with provided prefix: ${prefix}`);
    found = id;
  }
  if (found === undefined && prefix.length === 64) throw new NotFound(`No such ${what}: ${prefix}`);
  return found;
}
