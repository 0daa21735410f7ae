/** `hako builder prune`: removes build cache (docker's output: the deleted ids, then the total). */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { filterFlag, parseFilters } from '../filters.js';
import { fromHumanSize } from '../format/index.js';
import { confirm, pruneReport, FORCE_FLAG } from './prune.js';

export const builderPrune: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Remove build cache',
    flags: [
      { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused build cache, not just dangling ones' },
      filterFlag(undefined, 'Provide filter values (e.g. "until=24h")'),
      FORCE_FLAG,
      { name: 'keep-storage', kind: 'string', usage: 'Amount of disk space to keep for cache' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const filters = parseFilters(flags.array('filter'));
    const all = flags.bool('all');
    const keepText = flags.string('keep-storage');
    let keepStorage: number | undefined;
    if (keepText) {
      try {
        keepStorage = fromHumanSize(keepText);
      } catch {
        throw new StatusError(125, `invalid argument "${keepText}" for "--keep-storage" flag: use a size such as 10GB`);
      }
    }
    const warning = all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
    if (!flags.bool('force') && !(await confirm(cli, `${warning} Are you sure you want to continue?`))) return 0;
    const client = await cli.client();
    const res = await client.buildPrune({ all, filters, ...(keepStorage !== undefined ? { keepStorage } : {}) });
    cli.stdout.write(pruneReport('Deleted build cache objects', res.CachesDeleted ?? [], res.SpaceReclaimed ?? 0));
  },
};
