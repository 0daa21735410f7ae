/** `hako history IMAGE`. */
import type { Command } from '../command.js';
import { renderList } from '../render.js';
import { ellipsis, goTimeString, truncateId } from '../rows.js';
import { humanDuration, humanSize } from '../format/index.js';
import { FORMAT_HELP } from '../filters.js';

export const history: Command = {
  spec: {
    use: '[OPTIONS] IMAGE',
    short: 'Show the history of an image',
    aliases: 'hako image history, hako history',
    flags: [
      { name: 'format', kind: 'string', usage: FORMAT_HELP },
      { name: 'human', short: 'H', kind: 'bool', default: true, usage: 'Print sizes and dates in human readable format' },
      { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const items = await client.imageHistory(args[0] as string);
    const trunc = !flags.bool('no-trunc');
    const human = flags.bool('human');
    const now = Date.now();
    const rows = items.map((h) => {
      const id = String(h['Id'] ?? '');
      const created = Number(h['Created'] ?? 0);
      const by = String(h['CreatedBy'] ?? '').replace(/\t/g, ' ');
      return {
        ID: id === '<missing>' ? id : trunc ? truncateId(id) : id,
        CreatedSince: human ? `${humanDuration(now - created * 1000)} ago` : goTimeString(created),
        CreatedAt: goTimeString(created),
        CreatedBy: trunc ? ellipsis(by, 45) : by,
        Size: human ? humanSize(Number(h['Size'] ?? 0)) : String(h['Size'] ?? 0),
        Comment: String(h['Comment'] ?? ''),
      };
    });
    if (flags.bool('quiet')) {
      for (const r of rows) cli.out(r.ID);
      return;
    }
    cli.stdout.write(renderList(rows, {
      format: flags.string('format'),
      defaultTable: '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
    }));
  },
};
