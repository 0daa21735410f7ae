/** `hako images` / `hako image ls`. */
import type { Command } from '../command.js';
import { imageRows, truncateId } from '../rows.js';
import { renderList } from '../render.js';
import { parseFilters, filterFlag, FORMAT_HELP } from '../filters.js';

export const IMAGES_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

export const images: Command = {
  spec: {
    use: '[OPTIONS] [REPOSITORY[:TAG]]',
    short: 'List images',
    aliases: 'hako image ls, hako image list, hako images',
    flags: [
      { name: 'all', short: 'a', kind: 'bool', usage: 'Show all images (default hides intermediate images)' },
      { name: 'digests', kind: 'bool', usage: 'Show digests' },
      filterFlag('f'),
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
    ],
    args: { max: 1 },
  },
  async run(cli, flags, args) {
    const filters = parseFilters(flags.array('filter'));
    if (args[0]) (filters['reference'] ??= []).push(args[0]);
    let format = flags.string('format');
    if (flags.bool('quiet') && format) {
      cli.err('WARNING: Ignoring custom format, because both --format and --quiet are set.');
      format = '';
    }
    const client = await cli.client();
    const list = await client.imageList({ all: flags.bool('all'), filters });
    const trunc = !flags.bool('no-trunc');
    if (flags.bool('quiet')) {
      const seen = new Set<string>();
      for (const img of list) {
        const id = trunc ? truncateId(img.Id) : img.Id;
        if (!seen.has(id)) cli.out(id);
        seen.add(id);
      }
      return;
    }
    const now = Date.now();
    const digests = flags.bool('digests');
    const rows = list.flatMap((img) => imageRows(img, { trunc, now, digests }));
    const table = digests
      ? '{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
      : '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
    cli.stdout.write(renderList(rows, { format, defaultTable: table, headers: IMAGES_HEADERS }));
  },
};
