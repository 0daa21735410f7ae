/** `hako stats`: live resource usage of containers (docker's table, --no-stream, --format, -a). */
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import type { Command } from '../command.js';
import { createClient, type Client } from '../../client/index.js';
import { StatusError } from '../errors.js';
import { errorText } from '../containers.js';
import { renderList } from '../render.js';
import { FORMAT_HELP } from '../filters.js';
import { statsEntry, statsRow, STATS_HEADERS, STATS_TABLE, type StatsEntry } from '../stats-math.js';

type Json = Record<string, unknown>;

interface Watched {
  id: string;
  name: string;
  entry: StatsEntry | null;
  res: IncomingMessage | null;
  gone: boolean;
}

async function readJsonLines(res: IncomingMessage, onSample: (s: Json) => void): Promise<void> {
  const rl = createInterface({ input: res, crlfDelay: Infinity });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    try {
      onSample(JSON.parse(line) as Json);
    } catch {
      // A torn line at disconnect: the next one is whole.
    }
  }
}

export const stats: Command = {
  spec: {
    use: '[OPTIONS] [CONTAINER...]',
    short: 'Display a live stream of container(s) resource usage statistics',
    aliases: 'hako container stats, hako stats',
    flags: [
      { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'no-stream', kind: 'bool', usage: 'Disable streaming stats and only pull the first result' },
      { name: 'no-trunc', kind: 'bool', usage: 'Do not truncate output' },
    ],
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const trunc = !flags.bool('no-trunc');
    const format = flags.string('format');
    const noStream = flags.bool('no-stream');
    const watched = new Map<string, Watched>();
    const errors: string[] = [];

    const list = async (): Promise<Array<{ id: string; name: string }>> => {
      if (args.length > 0) {
        const out: Array<{ id: string; name: string }> = [];
        for (const ref of args) {
          try {
            const c = await client.containerInspect(ref);
            out.push({ id: String(c.Id), name: String(c.Name) });
          } catch (e) {
            if (watched.size === 0) errors.push(errorText(e));
          }
        }
        return out;
      }
      const cs = await client.containerList({ all: flags.bool('all') });
      return cs.map((c) => ({ id: String(c.Id), name: String((c.Names as string[] | undefined)?.[0] ?? '') }));
    };

    const render = (): string => {
      const rows = [...watched.values()].filter((w) => !w.gone).map((w) => statsRow(w.id, w.name, w.entry, trunc));
      return renderList(rows, { format, defaultTable: STATS_TABLE, headers: STATS_HEADERS });
    };

    if (noStream) {
      const found = await list();
      if (errors.length) throw new StatusError(1, errors.join('\n'));
      await Promise.all(found.map(async (c) => {
        const w: Watched = { ...c, entry: null, res: null, gone: false };
        watched.set(c.id, w);
        try {
          const res = await client.containerStats(c.id, { stream: false });
          await readJsonLines(res, (s) => { w.entry = statsEntry(s); });
        } catch (e) {
          if ((e as { status?: number }).status === 404) w.gone = true;
          else throw e;
        }
      }));
      cli.stdout.write(render());
      return;
    }

    const follow = (c: { id: string; name: string }, signal: AbortSignal): void => {
      const w: Watched = { ...c, entry: null, res: null, gone: false };
      watched.set(c.id, w);
      void (async () => {
        try {
          // A connection of its own per stream: the shared client's pool (16) would starve the
          // container list and the other streams with more containers than that.
          const own = createClient({ ...client.options, version: await client.apiVersion() });
          signal.addEventListener('abort', () => own.close(), { once: true });
          w.res = await own.containerStats(c.id, { stream: true, signal });
          await readJsonLines(w.res, (s) => { w.entry = statsEntry(s); });
        } catch {
          // Removed or the daemon went away: the row goes.
        }
        w.gone = true;
        watched.delete(c.id);
      })();
    };

    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const first = await list();
      if (errors.length) throw new StatusError(1, errors.join('\n'));
      for (const c of first) follow(c, abort.signal);
      const tty = Boolean(cli.stdout.isTTY);
      while (!abort.signal.aborted) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          abort.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
        });
        if (abort.signal.aborted) break;
        if (args.length === 0) {
          // New containers join the table; docker follows the event stream for this.
          for (const c of await list().catch(() => [])) if (!watched.has(c.id)) follow(c, abort.signal);
        } else if (watched.size === 0) {
          break;
        }
        cli.stdout.write(`${tty ? '\x1b[2J\x1b[H' : ''}${render()}`);
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      abort.abort();
      for (const w of watched.values()) w.res?.destroy();
    }
  },
};

export type { Client };
