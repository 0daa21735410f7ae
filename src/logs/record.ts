/**
 * One record of conmon's "k8s-file" log format, parsed in place on a Buffer (no string per line).
 *
 *   2024-05-01T10:00:00.123456789+02:00 stdout F hello\n
 *
 * conmon (src/ctr_logging.c, write_k8s_log/set_k8s_timestamp) writes, for every newline-separated
 * piece of what the process wrote: a local-time RFC3339 timestamp with nine fraction digits and a
 * `±HH:MM` offset, the pipe name, `F` when the piece ended with the process's own "\n" (kept in
 * the record) or `P` when it did not (conmon then appends a "\n" that is not the process's). So a
 * record never contains "\n" except as its terminator, and the process's bytes are:
 * F → content including the final "\n"; P → content without the final "\n".
 */

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  /** Exactly the bytes the process wrote in this record (a `P` record has no trailing "\n"). */
  data: Buffer;
  time: Date;
}

const SPACE = 0x20;
const LF = 0x0a;
const TAG_PARTIAL = 0x50; // 'P'
const CH_0 = 0x30;

/** Where the parts of one record lie in `buf`; -1 fields mean "not a valid record". */
export interface RecordView {
  /** Milliseconds since the epoch, NaN if the timestamp did not parse. */
  timeMs: number;
  stream: LogStream;
  partial: boolean;
  dataStart: number;
  /** Exclusive; for F records includes the "\n", for P records excludes conmon's "\n". */
  dataEnd: number;
}

/**
 * Parses the record in buf[start, lfPos] (lfPos is the terminating "\n").
 * Returns false for a line that is not a k8s-file record (it is skipped, as podman does).
 */
export function parseRecord(buf: Buffer, start: number, lfPos: number, out: RecordView): boolean {
  const sp1 = buf.indexOf(SPACE, start);
  if (sp1 < 0 || sp1 >= lfPos) return false;
  // The stream name is one of two fixed words; compare bytes instead of decoding.
  let stream: LogStream;
  // "std" then "out" or "err", then a space.
  if (buf[sp1 + 1] !== 0x73 /* s */ || buf[sp1 + 3] !== 0x64 /* d */ || buf[sp1 + 7] !== SPACE) return false;
  if (buf[sp1 + 4] === 0x6f /* o */) stream = 'stdout';
  else if (buf[sp1 + 4] === 0x65 /* e */) stream = 'stderr';
  else return false;
  const sp2 = sp1 + 7;
  const tag = buf[sp2 + 1];
  if (sp2 + 1 >= lfPos) return false;
  const partial = tag === TAG_PARTIAL;
  // "F content": content starts after the tag and one space. A record written with no content
  // (conmon never does, but be lenient) ends right after the tag.
  const dataStart = Math.min(sp2 + 3, lfPos);
  out.timeMs = parseTimestamp(buf, start, sp1);
  out.stream = stream;
  out.partial = partial;
  out.dataStart = dataStart;
  out.dataEnd = partial ? lfPos : lfPos + 1;
  return true;
}

function digits(buf: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = (buf[at + i] ?? 0) - CH_0;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * RFC3339(Nano) timestamp in buf[start, end) to epoch milliseconds, without making a string.
 * Accepts conmon's `…​.123456789+02:00` and the `Z` form other writers use.
 */
export function parseTimestamp(buf: Buffer, start: number, end: number): number {
  if (end - start < 20 || buf[start + 4] !== 0x2d || buf[start + 10] !== 0x54 /* T */) {
    return Date.parse(buf.toString('latin1', start, end));
  }
  const y = digits(buf, start, 4);
  const mo = digits(buf, start + 5, 2);
  const d = digits(buf, start + 8, 2);
  const h = digits(buf, start + 11, 2);
  const mi = digits(buf, start + 14, 2);
  const s = digits(buf, start + 17, 2);
  let i = start + 19;
  let ms = 0;
  if (buf[i] === 0x2e /* . */) {
    i++;
    let scale = 100;
    while (i < end) {
      const dd = (buf[i] ?? 0) - CH_0;
      if (dd < 0 || dd > 9) break;
      ms += dd * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms);
  }
  let offsetMin = 0;
  const z = buf[i];
  if (z === 0x2b /* + */ || z === 0x2d /* - */) {
    offsetMin = digits(buf, i + 1, 2) * 60 + digits(buf, i + 4, 2);
    if (z === 0x2d) offsetMin = -offsetMin;
  } else if (z !== 0x5a /* Z */ && z !== 0x7a /* z */) {
    return NaN;
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
}

/**
 * Encodes one chunk the process wrote the way conmon's write_k8s_log does: one record per
 * "\n"-terminated piece (`F`, newline kept), and a `P` record for a trailing piece without one.
 * hako never writes container logs itself (conmon does); this is for tests and tools.
 */
export function encodeRecords(time: Date, stream: LogStream, chunk: Buffer | string): Buffer {
  const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  const head = Buffer.from(`${conmonTimestamp(time)} ${stream} `, 'latin1');
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lf = data.indexOf(LF, at);
    const end = lf < 0 ? data.length : lf + 1;
    parts.push(head, Buffer.from(lf < 0 ? 'P ' : 'F ', 'latin1'), data.subarray(at, end));
    if (lf < 0) parts.push(Buffer.of(LF));
    at = end;
  }
  return Buffer.concat(parts);
}

/** conmon's timestamp shape (nine fraction digits, numeric offset), in UTC. */
function conmonTimestamp(time: Date): string {
  const iso = time.toISOString(); // 2024-05-01T10:00:00.123Z
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000+00:00`;
}
