/** `hako history IMAGE`. */
import type { Command } from '../command.js';
import { renderList } from '../render.js';
import { ellipsis, truncateId } from '../rows.js';
import { humanDuration, humanSizeWithPrecision } from '../format/index.js';
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
        // docker: CreatedSince falls back to CreatedAt (RFC 3339, local time) with -H=false.
        CreatedSince: human ? `${humanDuration(now - created * 1000)} ago` : rfc3339(created),
        CreatedAt: rfc3339(created),
        CreatedBy: trunc ? ellipsis(by, 45) : by,
        Size: human ? humanSizeWithPrecision(Number(h['Size'] ?? 0), 3) : String(h['Size'] ?? 0),
        Comment: String(h['Comment'] ?? ''),
      };
    });
    if (flags.bool('quiet')) {
      for (const r of rows) cli.out(r.ID);
      return;
    }
    cli.stdout.write(renderList(rows, {
      format: flags.string('format'),
      // docker's nonHumanHistoryTableFormat shows CREATED AT instead of CREATED.
      defaultTable: human ? '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}' : '{{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
      headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' },
    }));
  },
};

/** Go's time.Unix(s, 0).Format(time.RFC3339): local time, "Z" for UTC, else "+hh:mm". */
function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}
