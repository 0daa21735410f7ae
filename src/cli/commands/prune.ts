/**
 * `hako container prune`, `hako image prune`, and the one shape every prune command has (network
 * and volume prune are made here too): confirm unless -f, then report what went.
 */
import type { Command } from '../command.js';
import type { Cli } from '../cli.js';
import type { Client } from '../../client/index.js';
import { parseFilters, filterFlag } from '../filters.js';
import { humanSize } from '../format/index.js';

/** docker's prompt.Confirm: reads one line; only "y"/"Y" confirms. A closed stdin is a no. */
export async function confirm(cli: Cli, message: string): Promise<boolean> {
  cli.stdout.write(`${message} [y/N] `);
  const stdin = cli.stdin;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = (): void => done(buf);
    const done = (s: string): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(s);
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
  const answer = line.trim().toLowerCase();
  return answer === 'y' || answer === 'yes';
}

/**
 * What every prune prints, as docker: "Deleted <what>:" and one line each (when any), then the
 * reclaimed space (`space` null: networks report none).
 */
export function pruneReport(heading: string, lines: string[], space: number | null): string {
  let out = lines.length ? `${heading}:\n${lines.join('\n')}\n\n` : '';
  if (space !== null) out += `Total reclaimed space: ${humanSize(space)}\n`;
  return out;
}

/** The `-f/--force` flag of every prune. */
export const FORCE_FLAG = { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' } as const;

export interface PruneCommandDef {
  short: string;
  /** Usage of `-a/--all`, for the prunes that have it. */
  allUsage?: string;
  /** Usage of `--filter`: its example names the filter keys this prune knows. */
  filterUsage: string;
  /** The first line of the prompt: what will go (`all`: -a was given). */
  warning(all: boolean): string;
  /** Prunes, answering what to print (`pruneReport`). */
  prune(client: Client, filters: Record<string, string[]>, all: boolean): Promise<string>;
}

/** docker's container/image/network/volume prune: their flags, prompt and flow are one. */
export function pruneCommand(def: PruneCommandDef): Command {
  return {
    spec: {
      use: '[OPTIONS]',
      short: def.short,
      flags: [
        ...(def.allUsage ? [{ name: 'all', short: 'a', kind: 'bool' as const, usage: def.allUsage }] : []),
        filterFlag(undefined, def.filterUsage),
        FORCE_FLAG,
      ],
      args: { max: 0 },
    },
    async run(cli, flags) {
      const filters = parseFilters(flags.array('filter'));
      const all = def.allUsage !== undefined && flags.bool('all');
      if (!flags.bool('force') && !(await confirm(cli, `${def.warning(all)}\nAre you sure you want to continue?`))) return 0;
      const client = await cli.client();
      cli.stdout.write(await def.prune(client, filters, all));
    },
  };
}

export const containerPrune = pruneCommand({
  short: 'Remove all stopped containers',
  filterUsage: 'Provide filter values (e.g. "until=<timestamp>")',
  warning: () => 'WARNING! This will remove all stopped containers.',
  async prune(client, filters) {
    const res = await client.containerPrune(filters);
    const deleted = res.ContainersDeleted ?? [];
    return pruneReport('Deleted Containers', deleted, deleted.length ? res.SpaceReclaimed : 0);
  },
});

export const imagePrune = pruneCommand({
  short: 'Remove unused images',
  allUsage: 'Remove all unused images, not just dangling ones',
  filterUsage: 'Provide filter values (e.g. "until=<timestamp>")',
  warning: (all) => (all
    ? 'WARNING! This will remove all images without at least one container associated to them.'
    : 'WARNING! This will remove all dangling images.'),
  async prune(client, filters, all) {
    filters['dangling'] = [all ? 'false' : 'true'];
    const res = await client.imagePrune(filters);
    const lines = (res.ImagesDeleted ?? []).flatMap((d) => [
      ...(d.Untagged ? [`untagged: ${d.Untagged}`] : []),
      ...(d.Deleted ? [`deleted: ${d.Deleted}`] : []),
    ]);
    return pruneReport('Deleted Images', lines, res.SpaceReclaimed ?? 0);
  },
});
