/** `hako container prune`, `hako image prune`: confirm unless -f, then report what went. */
import type { Command } from '../command.js';
import type { Cli } from '../cli.js';
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

export const containerPrune: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Remove all stopped containers',
    flags: [
      filterFlag(undefined, 'Provide filter values (e.g. "until=<timestamp>")'),
      { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const filters = parseFilters(flags.array('filter'));
    if (!flags.bool('force') && !(await confirm(cli, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) {
      return 0;
    }
    const client = await cli.client();
    const res = await client.containerPrune(filters);
    const deleted = res.ContainersDeleted ?? [];
    cli.stdout.write(pruneReport('Deleted Containers', deleted, deleted.length ? res.SpaceReclaimed : 0));
  },
};

export const imagePrune: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Remove unused images',
    flags: [
      { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused images, not just dangling ones' },
      filterFlag(undefined, 'Provide filter values (e.g. "until=<timestamp>")'),
      { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const filters = parseFilters(flags.array('filter'));
    const all = flags.bool('all');
    filters['dangling'] = [all ? 'false' : 'true'];
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!flags.bool('force') && !(await confirm(cli, `${warning}\nAre you sure you want to continue?`))) return 0;
    const client = await cli.client();
    const res = await client.imagePrune(filters);
    const lines = (res.ImagesDeleted ?? []).flatMap((d) => [
      ...(d.Untagged ? [`untagged: ${d.Untagged}`] : []),
      ...(d.Deleted ? [`deleted: ${d.Deleted}`] : []),
    ]);
    cli.stdout.write(pruneReport('Deleted Images', lines, res.SpaceReclaimed ?? 0));
  },
};
