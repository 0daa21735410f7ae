/** docker's `--filter key=value` flags: their definition, and the API's filters map from them. */
import type { FlagDef } from './flags.js';

export function filterFlag(short: string | undefined, usage = 'Filter output based on conditions provided'): FlagDef {
  return {
    name: 'filter', short, kind: 'stringArray', valueName: 'filter', usage,
    validate: (v) => (v.includes('=') ? undefined : 'bad format of filter (expected name=value)'),
  };
}

/** Values were checked by filterFlag's validator while parsing. */
export function parseFilters(items: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    const key = it.slice(0, eq).trim().toLowerCase();
    (out[key] ??= []).push(it.slice(eq + 1).trim());
  }
  return out;
}

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;
