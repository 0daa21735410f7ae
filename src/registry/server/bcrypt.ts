/**
 * bcrypt verification for htpasswd files (the format `htpasswd -B` writes and Docker's registry
 * requires), after Provos and Mazières' "A Future-Adaptable Password Scheme" (1999) and
 * OpenBSD's bcrypt.c: EksBlowfish with 2^cost key expansions, then "OrpheanBeholderScryDoubt"
 * encrypted 64 times. Blowfish starts from the hex digits of pi; they are computed once here
 * (Machin's formula on BigInt) instead of carrying a 4 KiB table.
 */
import { timingSafeEqual } from 'node:crypto';

const B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const WORDS = 18 + 4 * 256;

let piWords: Uint32Array | undefined;

/** The first 1042 32-bit words of pi's fractional part: Blowfish's P-array then its S-boxes. */
export function blowfishInit(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32 + 64);
  const one = 1n << bits;
  const atanInv = (x: bigint): bigint => {
    let power = one / x;
    const x2 = x * x;
    let sum = power;
    for (let k = 1n, sign = -1n; power !== 0n; k++, sign = -sign) {
      power /= x2;
      sum += sign * (power / (2n * k + 1n));
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  const frac = pi - 3n * one;
  const out = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) out[i] = Number((frac >> (bits - BigInt((i + 1) * 32))) & 0xffffffffn);
  piWords = out;
  return out;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  constructor() {
    const init = blowfishInit();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }
  #f(x: number): number {
    const s = this.s;
    return ((((s[x >>> 24] as number) + (s[256 + ((x >>> 16) & 0xff)] as number)) ^ (s[512 + ((x >>> 8) & 0xff)] as number)) + (s[768 + (x & 0xff)] as number)) >>> 0;
  }
  encrypt(lr: Uint32Array, off: number): void {
    const p = this.p;
    let l = (lr[off] as number) ^ (p[0] as number);
    let r = lr[off + 1] as number;
    for (let i = 1; i <= 16; i += 2) {
      r ^= this.#f(l >>> 0) ^ (p[i] as number);
      l ^= this.#f(r >>> 0) ^ (p[i + 1] as number);
    }
    lr[off] = (r ^ (p[17] as number)) >>> 0;
    lr[off + 1] = l >>> 0;
  }
  expand(key: Uint8Array, salt: Uint8Array | null): void {
    let j = 0;
    const word = (data: Uint8Array): number => {
      let w = 0;
      for (let k = 0; k < 4; k++) {
        w = (w << 8) | (data[j] as number);
        j = (j + 1) % data.length;
      }
      return w >>> 0;
    };
    for (let i = 0; i < 18; i++) this.p[i] = ((this.p[i] as number) ^ word(key)) >>> 0;
    j = 0;
    const lr = new Uint32Array(2);
    const step = (target: Uint32Array, i: number): void => {
      if (salt) {
        lr[0] = (lr[0] as number) ^ word(salt);
        lr[1] = (lr[1] as number) ^ word(salt);
      }
      this.encrypt(lr, 0);
      target[i] = lr[0] as number;
      target[i + 1] = lr[1] as number;
    };
    for (let i = 0; i < 18; i += 2) step(this.p, i);
    for (let i = 0; i < 1024; i += 2) step(this.s, i);
  }
}

function decode64(text: string, bytes: number): Uint8Array | null {
  const out = new Uint8Array(bytes);
  let o = 0;
  const v = (i: number): number => B64.indexOf(text[i] ?? '');
  for (let i = 0; o < bytes; i += 4) {
    const c1 = v(i), c2 = v(i + 1);
    if (c1 < 0 || c2 < 0) return null;
    out[o++] = (c1 << 2) | ((c2 & 0x30) >> 4);
    if (o >= bytes) break;
    const c3 = v(i + 2);
    if (c3 < 0) return null;
    out[o++] = ((c2 & 0x0f) << 4) | ((c3 & 0x3c) >> 2);
    if (o >= bytes) break;
    const c4 = v(i + 3);
    if (c4 < 0) return null;
    out[o++] = ((c3 & 0x03) << 6) | c4;
  }
  return out;
}

function encode64(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i += 3) {
    const c1 = data[i] as number;
    s += B64[c1 >> 2];
    if (i + 1 >= data.length) { s += B64[(c1 & 0x03) << 4]; break; }
    const c2 = data[i + 1] as number;
    s += B64[((c1 & 0x03) << 4) | (c2 >> 4)];
    if (i + 2 >= data.length) { s += B64[(c2 & 0x0f) << 2]; break; }
    const c3 = data[i + 2] as number;
    s += B64[((c2 & 0x0f) << 2) | (c3 >> 6)];
    s += B64[c3 & 0x3f];
  }
  return s;
}

/** bcrypt of `password` with the cost and salt of `setting` ("$2y$05$<22 salt chars>..."); null when malformed. */
export function bcryptHash(password: string, setting: string): string | null {
  const m = /^\$2([abxy])\$(\d\d)\$([./A-Za-z0-9]{22})/.exec(setting);
  if (!m) return null;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) return null;
  const salt = decode64(m[3] as string, 16);
  if (!salt) return null;
  const pw = Buffer.from(password, 'utf8');
  const key = new Uint8Array(Math.min(pw.length + 1, 72));
  key.set(pw.subarray(0, key.length));
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0, rounds = 2 ** cost; i < rounds; i++) {
    bf.expand(key, null);
    bf.expand(salt, null);
  }
  const text = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const ctext = new Uint32Array(6);
  for (let i = 0; i < 6; i++) ctext[i] = text.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) for (let b = 0; b < 6; b += 2) bf.encrypt(ctext, b);
  const raw = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) raw.writeUInt32BE(ctext[i] as number, i * 4);
  return `$2${m[1]}$${m[2]}$${m[3]}${encode64(raw.subarray(0, 23))}`;
}

export function bcryptVerify(password: string, hash: string): boolean {
  const got = bcryptHash(password, hash);
  if (got === null || got.length !== hash.length) return false;
  return timingSafeEqual(Buffer.from(got), Buffer.from(hash));
}
