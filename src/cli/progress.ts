/**
 * Shows a JSON progress stream (pull, push, import, load) like docker's jsonmessage display. On a
 * terminal each layer id keeps its own line, redrawn in place with its bar (cursor up, clear line,
 * print, cursor down); without a terminal, one line per status and no bars. Stream text is copied
 * verbatim; the first error is thrown.
 */
import type { Writable } from 'node:stream';
import { jsonLines, type ProgressMessage } from '../client/index.js';

export async function displayProgress(body: AsyncIterable<Buffer>, out: Writable, opts: { tty?: boolean } = {}): Promise<ProgressMessage[]> {
  const aux: ProgressMessage[] = [];
  /** Line of each id on screen, counted from the first progress line. */
  const lines = new Map<string, number>();
  let total = 0;
  for await (const msg of jsonLines(body)) {
    if (msg.error || msg.errorDetail?.message) throw new Error(msg.errorDetail?.message ?? msg.error);
    if (msg.aux) aux.push(msg);
    if (msg.stream !== undefined) {
      out.write(msg.stream);
      continue;
    }
    if (msg.status === undefined) continue;
    if (!opts.tty) {
      // Progress bars only make sense on a terminal; a pipe gets the status lines.
      if (msg.progressDetail?.current !== undefined) continue;
      out.write(`${msg.id ? `${msg.id}: ` : ''}${msg.status}\n`);
      continue;
    }
    const text = `${msg.id ? `${msg.id}: ` : ''}${msg.status}${msg.progress ? ` ${msg.progress}` : ''}`;
    if (!msg.id) {
      out.write(`${text}\n`);
      total++;
      continue;
    }
    const line = lines.get(msg.id);
    if (line === undefined) {
      lines.set(msg.id, total++);
      out.write(`\x1b[2K\r${text}\n`);
    } else {
      const up = total - line;
      out.write(`\x1b[${up}A\x1b[2K\r${text}\x1b[${up}B\r`);
    }
  }
  return aux;
}
