/** `hako ps` / `hako container ls`. */
import type { Command } from '../command.js';
import { containerRow, truncateId } from '../rows.js';
import { renderList } from '../render.js';
import { parseFilters, filterFlag, FORMAT_HELP } from '../filters.js';

export const PS_TABLE = '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS',
  Names: 'NAMES', Size: 'SIZE', CreatedAt: 'CREATED AT', State: 'STATE', Labels: 'LABELS', Mounts: 'MOUNTS',
  Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES', Label: 'LABEL',
};

export const ps: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'List containers',
    aliases: 'hako container ls, hako container list, hako container ps, hako ps',
    flags: [
      { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
      filterFlag('f'),
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'last', short: 'n', kind: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
      { name: 'latest', short: 'l', kind: 'bool', usage: 'Show the latest created container (includes all states)' },
      { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display container IDs' },
      { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' },
    ],
    args: { min: 0, max: 0 },
  },
  async run(cli, flags) {
    const filters = parseFilters(flags.array('filter'));
    let last = flags.number('last');
    if (flags.bool('latest') && last === -1) last = 1;
    let format = flags.string('format');
    if (flags.bool('quiet') && format) {
      cli.err('WARNING: Ignoring custom format, because both --format and --quiet are set.');
      format = '';
    }
    const table = flags.bool('size') && (!format || format === 'table') ? `${PS_TABLE}\t{{.Size}}` : PS_TABLE;
    // As docker's containerOptionsProcessor: a template that reads .Size (or marshals the row with
    // {{json .}}) asks for sizes; the plain `json` format does not (its Size is then "0B").
    const wantsSize = flags.bool('size') || /\.Size\b/.test(format) || /\{\{\s*json\s+\.\s*\}\}/.test(format);
    const client = await cli.client();
    const list = await client.containerList({
      all: flags.bool('all') || last > 0,
      limit: last > 0 ? last : undefined,
      size: wantsSize && !flags.bool('quiet'),
      filters,
    });
    const trunc = !flags.bool('no-trunc');
    if (flags.bool('quiet')) {
      for (const c of list) cli.out(trunc ? truncateId(c.Id) : c.Id);
      return;
    }
    const now = Date.now();
    const rows = list.map((c) => containerRow(c, { trunc, now }));
    cli.stdout.write(renderList(rows, { format, defaultTable: table, headers: PS_HEADERS }));
  },
};
