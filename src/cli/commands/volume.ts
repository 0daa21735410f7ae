/** `hako volume create|ls|inspect|rm|prune`, as docker's cli/command/volume. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { errorsOfEach } from '../containers.js';
import { renderList, printInspected } from '../render.js';
import { parseFilters, filterFlag, FORMAT_HELP } from '../filters.js';
import { contextRow, humanSize } from '../format/index.js';
import { pruneCommand, pruneReport } from './prune.js';
import { kvMap } from '../flag-values.js';

type Json = Record<string, unknown>;

export const VOLUME_HEADERS: Record<string, string> = {
  Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Scope: 'SCOPE',
  Links: 'LINKS', Size: 'SIZE', CreatedAt: 'CREATED AT',
};

/**
 * A row for `volume ls --format`: the fields of docker's volumeContext (what `json` marshals),
 * Labels as docker's "k=v,k2=v2" string; the cluster-volume fields are "N/A" for local volumes.
 */
function volumeRow(v: Json): Json {
  const labels = (v.Labels as Record<string, string> | null) ?? {};
  const usage = v.UsageData as { Size?: number; RefCount?: number } | undefined;
  const row: Json = {
    Availability: 'N/A',
    Driver: String(v.Driver ?? ''),
    Group: 'N/A',
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(','),
    Links: usage?.RefCount !== undefined && usage.RefCount >= 0 ? String(usage.RefCount) : 'N/A',
    Mountpoint: String(v.Mountpoint ?? ''),
    Name: String(v.Name ?? ''),
    Scope: String(v.Scope ?? ''),
    Size: usage?.Size !== undefined && usage.Size >= 0 ? humanSize(usage.Size) : 'N/A',
    Status: 'N/A',
  };
  // {{.Label "key"}}: a method, not a field json marshals.
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return contextRow(row);
}

export const volumeCreate: Command = {
  spec: {
    use: '[OPTIONS] [VOLUME]',
    short: 'Create a volume',
    flags: [
      { name: 'driver', short: 'd', kind: 'string', default: 'local', usage: 'Specify volume driver name' },
      { name: 'label', kind: 'stringArray', valueName: 'list', usage: 'Set metadata for a volume' },
      { name: 'opt', short: 'o', kind: 'stringArray', valueName: 'map', usage: 'Set driver specific options (default map[])' },
      { name: 'name', kind: 'string', usage: 'Specify volume name', hidden: true },
    ],
    args: { max: 1 },
  },
  async run(cli, flags, args) {
    if (args[0] && flags.string('name') && args[0] !== flags.string('name')) {
      throw new StatusError(1, `conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
    }
    const client = await cli.client();
    const v = await client.volumeCreate({
      Name: args[0] ?? flags.string('name'), Driver: flags.string('driver'),
      DriverOpts: kvMap(flags.array('opt')), Labels: kvMap(flags.array('label')),
    });
    cli.out(String(v.Name));
  },
};

export const volumeLs: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'List volumes',
    aliases: 'hako volume ls, hako volume list',
    flags: [
      filterFlag('f', "Provide filter values (e.g. 'dangling=true')"),
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display volume names' },
    ],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const client = await cli.client();
    const res = await client.volumeList(parseFilters(flags.array('filter')));
    const vols = [...(res.Volumes ?? [])].sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
    for (const w of res.Warnings ?? []) cli.err(w);
    if (flags.bool('quiet')) {
      for (const v of vols) cli.out(String(v.Name));
      return;
    }
    cli.stdout.write(renderList(vols.map(volumeRow), { format: flags.string('format'), defaultTable: '{{.Driver}}\t{{.Name}}', headers: VOLUME_HEADERS }));
  },
};

export const volumeInspect: Command = {
  spec: {
    use: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Display detailed information on one or more volumes',
    flags: [{ name: 'format', short: 'f', kind: 'string', usage: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    await printInspected(cli.stdout, args, flags.string('format'), (name) => client.volumeInspect(name), (name) => `Error: No such volume: ${name}`);
  },
};

export const volumeRm: Command = {
  spec: {
    use: '[OPTIONS] VOLUME [VOLUME...]',
    short: 'Remove one or more volumes',
    aliases: 'hako volume rm, hako volume remove',
    flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of one or more volumes' }],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const errors = await errorsOfEach(args, async (name) => {
      await client.volumeRemove(name, { force: flags.bool('force') });
      cli.out(name);
    });
    if (errors.length) throw new StatusError(1, errors.join('\n'));
  },
};

export const volumePrune = pruneCommand({
  short: 'Remove unused local volumes',
  allUsage: 'Remove all unused volumes, not just anonymous ones',
  filterUsage: "Provide filter values (e.g. 'label=<label>')",
  warning: (all) => (all
    ? 'WARNING! This will remove all local volumes not used by at least one container.'
    : 'WARNING! This will remove anonymous local volumes not used by at least one container.'),
  async prune(client, filters, all) {
    if (all) filters['all'] = ['true'];
    const res = await client.volumePrune(filters);
    return pruneReport('Deleted Volumes', res.VolumesDeleted ?? [], res.SpaceReclaimed ?? 0);
  },
});
