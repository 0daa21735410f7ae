/** docker's `--filter key=value` flags into the API's filters map. */
import { StatusError } from './errors.js';

export function parseFilters(items: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq < 0) throw new StatusError(125, `invalid argument "${it}" for "-f, --filter" flag: bad format of filter (expected name=value)\n\nRun 'hako --help' for more information`);
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
