/** `hako search TERM`: the registry's search endpoint (Docker Hub's); most private registries have none. */
import type { Command } from '../command.js';
import { registryAuthHeader } from '../credentials.js';
import { StatusError } from '../errors.js';

export const search: Command = {
  spec: {
    use: '[OPTIONS] TERM',
    short: 'Search registries for images',
    flags: [
      { name: 'limit', kind: 'string', usage: 'Max number of search results' },
      { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      { name: 'filter', short: 'f', kind: 'string', usage: 'Filter output based on conditions provided' },
      { name: 'format', kind: 'string', usage: 'Pretty-print search using a Go template' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const term = args[0] as string;
    if (flags.string('filter')) throw new StatusError(1, 'search --filter is not supported by hako yet');
    if (flags.string('format')) throw new StatusError(1, 'search --format is not supported by hako yet');
    const limitText = flags.string('limit');
    const limit = limitText ? Number(limitText) : undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) throw new StatusError(1, `invalid limit ${limitText}: use 1 to 100`);
    const client = await cli.client();
    const results = await client.imageSearch(term, { ...(limit ? { limit } : {}), registryAuth: registryAuthHeader(term) });
    const trunc = (s: string) => (!flags.bool('no-trunc') && s.length > 45 ? `${s.slice(0, 44)}…` : s);
    const rows = [['NAME', 'DESCRIPTION', 'STARS', 'OFFICIAL'], ...results.map((r) => [r.name, trunc(r.description.replace(/\s+/g, ' ')), String(r.star_count), r.is_official ? '[OK]' : ''])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
    for (const row of rows) cli.out(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd());
  },
};
