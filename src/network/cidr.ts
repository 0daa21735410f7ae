/** IPv4 addresses and prefixes as numbers: parsing, containment, overlap. Pure. */
import { InvalidArgument } from '../errdefs/index.js';

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  bits: number;
}

export function parseIp(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** `10.1.0.0/16`; with `strict`, host bits must be zero (docker: "invalid subnet"). */
export function parseCidr(s: string, what = 'subnet'): Cidr {
  const [ip, bitsRaw, extra] = s.split('/');
  const addr = parseIp(ip ?? '');
  const bits = Number(bitsRaw);
  if (addr === null || extra !== undefined || !/^\d{1,2}$/.test(bitsRaw ?? '') || bits > 32) {
    throw new InvalidArgument(`invalid ${what} ${JSON.stringify(s)}: expected an IPv4 CIDR like 10.1.0.0/16`);
  }
  return { base: (addr & mask(bits)) >>> 0, bits };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.bits);
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.bits)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

export function broadcast(c: Cidr): number {
  return (c.base + size(c) - 1) >>> 0;
}
