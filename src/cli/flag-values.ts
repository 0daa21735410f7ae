/** Values of docker's list-typed flags as the API wants them: `k=v` maps and comma lists. */

/** `k=v` items to a map; a bare key maps to "" (docker's MapOpts and opts.ConvertKVStringsToMap). */
export function kvMap(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const eq = it.indexOf('=');
    if (eq < 0) out[it] = '';
    else out[it.slice(0, eq)] = it.slice(eq + 1);
  }
  return out;
}

/** pflag's StringSlice: every value is a comma-separated list; blanks trimmed, empty items dropped. */
export function commaList(items: string[]): string[] {
  return items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}
