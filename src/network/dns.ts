/**
 * The embedded DNS server: answers A queries for container names and aliases on user-defined
 * networks (several addresses in rotating order when containers share an alias) and forwards
 * every other query to the host's resolvers (or the container's --dns servers). One UDP socket
 * per network, on the bridge's gateway address, so each container's resolv.conf names it.
 * The DNS wire format (RFC 1035 §4) is small enough to encode here.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface Question {
  name: string;
  type: number;
  cls: number;
  /** Byte offset just after the question. */
  end: number;
}

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
const CLASS_IN = 1;

/** The first question of a query; null when the message is not a well-formed query. */
export function parseQuery(msg: Buffer): { id: number; flags: number; question: Question } | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || msg.readUInt16BE(4) < 1) return null;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return null;
    const len = msg[off]!;
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63 || off + 1 + len > msg.length) return null; // no compression in questions
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return null;
  return { id: msg.readUInt16BE(0), flags, question: { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), cls: msg.readUInt16BE(off + 2), end: off + 4 } };
}

/** A response echoing the query's question with `addresses` as A records (rcode 3 = NXDOMAIN). */
export function buildAnswer(query: Buffer, q: { flags: number; question: Question }, addresses: readonly string[], rcode = 0, ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, AA, the query's opcode and RD, RA.
  header.writeUInt16BE(0x8000 | 0x0400 | (q.flags & 0x7900) | 0x0080 | (rcode & 15), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(TYPE_A, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((b, i) => rr.writeUInt8(Number(b), 12 + i));
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, q.question.end), ...answers]);
}

/** Builds a query (tests, probes). */
export function buildQuery(id: number, name: string, type = TYPE_A): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(type, 1);
  tail.writeUInt16BE(CLASS_IN, 3);
  return Buffer.concat([header, ...parts, tail]);
}

/** The A records of a response (tests, probes). */
export function parseAnswers(msg: Buffer): { rcode: number; addresses: string[] } {
  const rcode = msg.readUInt16BE(2) & 15;
  const an = msg.readUInt16BE(6);
  let off = 12;
  const skipName = () => {
    for (;;) {
      const len = msg[off]!;
      if ((len & 0xc0) === 0xc0) { off += 2; return; }
      off += 1 + len;
      if (len === 0) return;
    }
  };
  skipName();
  off += 4;
  const addresses: string[] = [];
  for (let i = 0; i < an; i++) {
    skipName();
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    if (type === TYPE_A && rdlen === 4) addresses.push([...msg.subarray(off + 10, off + 14)].join('.'));
    off += 10 + rdlen;
  }
  return { rcode, addresses };
}

export interface DnsResolver {
  /**
   * Addresses for `name` as seen by the container at `client`; null when the name is not a
   * container's (then the query is forwarded); [] when it is, but not in this family.
   */
  lookup(name: string, client: string): string[] | null;
  /** Where to forward other queries for the container at `client` ("ip" or "ip:port"). */
  upstreams(client: string): string[];
}

export class EmbeddedDns {
  readonly #resolver: DnsResolver;
  readonly #sockets = new Map<string, Socket>();
  readonly #rotation = new Map<string, number>();

  constructor(resolver: DnsResolver) {
    this.#resolver = resolver;
  }

  /** Listens on `address`:53 (idempotent). */
  async listen(address: string): Promise<void> {
    if (this.#sockets.has(address)) return;
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('message', (msg, rinfo) => void this.#answer(sock, msg, rinfo.address, rinfo.port));
    sock.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(53, address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.unref();
    this.#sockets.set(address, sock);
  }

  close(address?: string): void {
    for (const [addr, sock] of this.#sockets) {
      if (address !== undefined && addr !== address) continue;
      sock.close();
      this.#sockets.delete(addr);
    }
  }

  async #answer(sock: Socket, msg: Buffer, client: string, port: number): Promise<void> {
    const q = parseQuery(msg);
    if (!q) return;
    const { name, type } = q.question;
    const found = this.#resolver.lookup(name, client);
    if (found !== null) {
      let addrs = type === TYPE_A ? found : [];
      if (addrs.length > 1) {
        // Round robin: each answer starts one further along.
        const n = this.#rotation.get(name) ?? 0;
        this.#rotation.set(name, n + 1);
        const k = n % addrs.length;
        addrs = [...addrs.slice(k), ...addrs.slice(0, k)];
      }
      sock.send(buildAnswer(msg, q, addrs, 0), port, client);
      return;
    }
    const reply = await forward(msg, this.#resolver.upstreams(client));
    sock.send(reply ?? buildAnswer(msg, q, [], 2), port, client);
  }
}

/** Sends the query to each upstream in turn; the first reply wins. */
async function forward(msg: Buffer, upstreams: string[]): Promise<Buffer | null> {
  for (const up of upstreams) {
    const [host, portRaw] = up.includes(':') ? up.split(':') : [up, '53'];
    const reply = await new Promise<Buffer | null>((resolve) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => done(null), 2000);
      const done = (b: Buffer | null) => {
        clearTimeout(timer);
        s.close();
        resolve(b);
      };
      s.on('error', () => done(null));
      s.on('message', (b) => done(b));
      // Connected, so that a refused port (ICMP unreachable) is an error now, not a 2 s timeout.
      s.connect(Number(portRaw), host, () => s.send(msg));
    });
    if (reply) return reply;
  }
  return null;
}
