/**
 * `--tail N`: where to start reading so that the last N lines come out, found by reading the
 * files backwards in blocks (a 10 GB log costs a few block reads, not a scan).
 *
 * A line is what the process ended with "\n": one `F` record, preceded by the `P` records of the
 * same line (long lines, writes without "\n"). The log's very last record also ends a line when it
 * is a `P` (output without a trailing newline). Like docker, the count is over both streams; the
 * stdout/stderr filter applies afterwards.
 */

import type { FileHandle } from 'node:fs/promises';

export interface FilePosition {
  /** Index into the list of files, oldest first. */
  file: number;
  offset: number;
}

const LF = 0x0a;
const SPACE = 0x20;
const TAG_PARTIAL = 0x50;
const BLOCK = 64 * 1024;
/** Enough bytes past a record's start to see its timestamp, stream and tag. */
const LOOKAHEAD = 128;

/** Start of the last `lines` lines over `files` (oldest first) whose sizes are `sizes`. */
export async function findTailStart(files: readonly FileHandle[], sizes: readonly number[], lines: number): Promise<FilePosition> {
  const last = files.length - 1;
  if (last < 0) return { file: 0, offset: 0 };
  if (lines <= 0) return { file: last, offset: sizes[last] ?? 0 };
  const buf = Buffer.allocUnsafe(BLOCK + LOOKAHEAD);
  let lineEnds = 0;
  let first = true;
  for (let f = last; f >= 0; f--) {
    const fh = files[f]!;
    const size = sizes[f] ?? 0;
    /** File offset of the "\n" ending the record whose start we are looking for. */
    let pendingEnd = -1;
    let blockEnd = size;
    let bytesRead = 0;
    // A record starts at `start` in buf (file offset `blockStart + start`); count it if it ends a line.
    const endsLineHere = (start: number, len: number): boolean => {
      const isLast = first;
      first = false;
      if (isLast || !isPartial(buf, start, len)) lineEnds++;
      return lineEnds > lines;
    };
    while (blockEnd > 0) {
      const blockStart = Math.max(0, blockEnd - BLOCK);
      const want = Math.min(size, blockEnd + LOOKAHEAD) - blockStart;
      ({ bytesRead } = await fh.read(buf, 0, want, blockStart));
      let p = blockEnd - blockStart - 1;
      while (p >= 0) {
        const nl = buf.lastIndexOf(LF, p);
        if (nl < 0) break;
        if (pendingEnd >= 0 && endsLineHere(nl + 1, bytesRead)) return { file: f, offset: pendingEnd + 1 };
        pendingEnd = blockStart + nl;
        p = nl - 1;
      }
      blockEnd = blockStart;
    }
    // The file's first record starts at offset 0, which is in buf after the last (lowest) read.
    if (pendingEnd >= 0 && endsLineHere(0, bytesRead)) return { file: f, offset: pendingEnd + 1 };
  }
  return { file: 0, offset: 0 };
}

function isPartial(buf: Buffer, start: number, len: number): boolean {
  const sp1 = buf.indexOf(SPACE, start);
  if (sp1 < 0 || sp1 >= len) return false;
  const sp2 = buf.indexOf(SPACE, sp1 + 1);
  if (sp2 < 0 || sp2 + 1 >= len) return false;
  return buf[sp2 + 1] === TAG_PARTIAL;
}
