/** `hako events` / `hako system events`: the engine's events, live or from a time range. */
import type { Command } from '../command.js';
import type { EventMessage } from '../../client/index.js';
import { filterFlag, parseFilters } from '../filters.js';
import { parseTimestamp } from '../units.js';
import { Template } from '../format/index.js';
import { StatusError } from '../errors.js';

const FORMAT_USAGE = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

/** docker's RFC3339NanoFixed in local time: 2006-01-02T15:04:05.000000000Z07:00. */
export function eventTime(e: EventMessage): string {
  const ns = e.timeNano ? BigInt(e.timeNano) : BigInt(e.time ?? 0) * 1_000_000_000n;
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${frac}${zone}`;
}

/** docker's prettyPrintEvent: time, type, action, actor, then the attributes sorted by key. */
export function prettyEvent(e: EventMessage): string {
  let line = `${eventTime(e)} ${e.Type} ${e.Action} ${e.Actor.ID}`;
  const attrs = e.Actor.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${line}\n`;
}

export const events: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Get real time events from the server',
    aliases: 'hako system events, hako events',
    flags: [
      filterFlag('f', 'Filter output based on conditions provided'),
      { name: 'format', kind: 'string', usage: FORMAT_USAGE },
      { name: 'since', kind: 'string', usage: 'Show all events created since timestamp' },
      { name: 'until', kind: 'string', usage: 'Stream events until this timestamp' },
    ],
    args: { min: 0, max: 0 },
  },
  async run(cli, flags) {
    const now = Date.now();
    const since = parseTimestamp(flags.string('since'), now);
    const until = parseTimestamp(flags.string('until'), now);
    const format = flags.string('format');
    let template: Template | null = null;
    try {
      if (format === 'json') template = Template.parse('{{json .}}');
      else if (format !== '') template = Template.parse(format);
    } catch (e) {
      throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
    }
    const client = await cli.client();
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const filters = parseFilters(flags.array('filter'));
      const stream = await client.events({ ...(since ? { since } : {}), ...(until ? { until } : {}), filters, signal: abort.signal });
      for await (const e of stream) cli.stdout.write(template ? `${template.execute(e)}\n` : prettyEvent(e));
    } catch (e) {
      if (abort.signal.aborted) return 0;
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
