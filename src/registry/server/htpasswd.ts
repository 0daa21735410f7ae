/**
 * htpasswd files as Docker's registry reads them: "user:hash" lines, bcrypt hashes
 * (`htpasswd -B`). `{SHA}` entries are accepted too; MD5-crypt and crypt(3) entries are refused
 * at load with a message, as they are too weak to guard a registry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidArgument } from '../../errdefs/index.js';
import { bcryptVerify } from './bcrypt.js';

export class Htpasswd {
  readonly #entries = new Map<string, string>();
  /** Successful checks, by sha256(user:password): bcrypt is slow on purpose, clients send every request. */
  readonly #verified = new Set<string>();

  constructor(path: string) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InvalidArgument(`htpasswd file ${path}: ${(err as Error).message}`);
    }
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new InvalidArgument(`htpasswd file ${path}, line ${i + 1}: expected "user:hash"`);
      const hash = line.slice(colon + 1);
      if (!/^\$2[abxy]\$\d\d\$/.test(hash) && !hash.startsWith('{SHA}')) {
        throw new InvalidArgument(`htpasswd file ${path}, line ${i + 1}: only bcrypt entries are supported (create them with "htpasswd -B")`);
      }
      this.#entries.set(line.slice(0, colon), hash);
    }
  }

  verify(user: string, password: string): boolean {
    const hash = this.#entries.get(user);
    if (hash === undefined) return false;
    const key = createHash('sha256').update(`${user}\0${password}\0${hash}`).digest('hex');
    if (this.#verified.has(key)) return true;
    let ok: boolean;
    if (hash.startsWith('{SHA}')) {
      const want = Buffer.from(hash.slice(5), 'base64');
      const got = createHash('sha1').update(password).digest();
      ok = want.length === got.length && timingSafeEqual(want, got);
    } else {
      ok = bcryptVerify(password, hash);
    }
    if (ok) this.#verified.add(key);
    return ok;
  }
}
