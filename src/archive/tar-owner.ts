/**
 * The owner of a tar entry as readers must take it: PAX `uid`/`gid` records override the ustar
 * fields (POSIX pax, "uid" and "gid" keywords). Writers put ids above ustar's 6 octal digits
 * (262143) there, as our tar writer and Go's archive/tar (docker) do; tar-stream's extract takes
 * only path, linkpath and size from PAX records, so its readers ask here.
 */
import { InvalidArgument } from '../errdefs/index.js';

/** The fields of a tar-stream header this needs. */
export interface TarOwnerHeader {
  name: string;
  uid?: number | undefined;
  gid?: number | undefined;
  /** tar-stream's decoded PAX records (typed `unknown` by some of its typings). */
  pax?: unknown;
}

/** Linux ids are 32-bit; (uid_t)-1 means "unchanged" to chown, so it is no owner either. */
const MAX_OWNER_ID = 0xfffffffe;

/** [uid, gid] of the entry (0 for a missing ustar field); throws InvalidArgument on a PAX id that is not a number. */
export function tarOwner(header: TarOwnerHeader): [number, number] {
  return [paxId(header, 'uid') ?? header.uid ?? 0, paxId(header, 'gid') ?? header.gid ?? 0];
}

function paxId(header: TarOwnerHeader, key: 'uid' | 'gid'): number | undefined {
  const value = (header.pax as Record<string, string> | null | undefined)?.[key];
  if (value === undefined) return undefined;
  const id = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(id <= MAX_OWNER_ID)) {
    throw new InvalidArgument(`tar entry "${header.name}": PAX ${key} "${value}" is not an owner id (0 to ${MAX_OWNER_ID}); the archive is broken`);
  }
  return id;
}
