/**
 * Shows a JSON progress stream (pull, import, load) like docker's jsonmessage display without a
 * terminal: one line per status, stream text verbatim, and the first error thrown.
 */
import type { Writable } from 'node:stream';
import { jsonLines, type ProgressMessage } from '../client/index.js';

export async function displayProgress(body: AsyncIterable<Buffer>, out: Writable, opts: { tty?: boolean } = {}): Promise<ProgressMessage[]> {
  const aux: ProgressMessage[] = [];
  for await (const msg of jsonLines(body)) {
    if (msg.error || msg.errorDetail?.message) throw new Error(msg.errorDetail?.message ?? msg.error);
    if (msg.aux) aux.push(msg);
    if (msg.stream !== undefined) {
      out.write(msg.stream);
      continue;
    }
    if (msg.status === undefined) continue;
    // Progress bars only make sense on a terminal; a pipe gets the status lines.
    if (msg.progressDetail?.current !== undefined && !opts.tty) continue;
    const id = msg.id ? `${msg.id}: ` : '';
    const progress = opts.tty && msg.progress ? ` ${msg.progress}` : '';
    out.write(`${id}${msg.status}${progress}\n`);
  }
  return aux;
}
