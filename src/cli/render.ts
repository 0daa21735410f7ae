/**
 * Output of list and inspect commands over cli/format: docker's `--format` (`table`,
 * `table TEMPLATE`, `json`, or a Go template) over row objects, and tabwriter-aligned tables.
 */
import { formatTable, Template, templateString, tabwrite, DOCKER_TABLE } from './format/index.js';
import { StatusError, isNotFound } from './errors.js';

/** docker's tabwriter(minwidth, 1, 3, ' ') over lines of tab-separated cells. */
export function alignTable(lines: string[], minWidth = 10): string {
  if (lines.length === 0) return '';
  return tabwrite(`${lines.join('\n')}\n`, { ...DOCKER_TABLE, minWidth });
}

function templateError(e: unknown): never {
  if ((e as Error)?.name === 'TemplateError' || e instanceof Error) throw new StatusError(1, `template parsing error: ${(e as Error).message}`);
  throw e;
}

export interface ListFormat {
  /** The --format value ('' for the default table). */
  format: string;
  /** The default table template (without "table "). */
  defaultTable: string;
  /** Column headers by field name. */
  headers: Record<string, string>;
}

/** Renders rows per docker's formatter.Format rules; answers the text to print. */
export function renderList(rows: object[], f: ListFormat): string {
  const format = !f.format || f.format === 'table' ? `table ${f.defaultTable}` : f.format;
  try {
    return formatTable(rows, format, { header: f.headers });
  } catch (e) {
    return templateError(e);
  }
}

/** For `inspect -f`: each object rendered by the template, one per line; no format = indented JSON array. */
export function renderInspect(objects: unknown[], format: string): string {
  if (format === '') return `${JSON.stringify(objects, null, 4)}\n`;
  let tmpl: Template;
  try {
    tmpl = Template.parse(templateString(format));
    return objects.map((o) => `${tmpl.execute(o)}\n`).join('');
  } catch (e) {
    return templateError(e);
  }
}

/**
 * docker's `inspect` of several objects: prints those found (JSON or --format), then fails with
 * one line per name that was not (exit 1), as the docker CLI does. `fetch` resolves undefined or
 * rejects with the daemon's 404 for a name it does not know (`missing` gets that error, if any,
 * to word the line); other errors propagate.
 */
export async function printInspected(
  out: NodeJS.WritableStream, refs: string[], format: string,
  fetch: (ref: string) => Promise<unknown | undefined>, missing: (ref: string, notFound?: unknown) => string,
): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    let obj: unknown;
    let notFound: unknown;
    try {
      obj = await fetch(ref);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      notFound = e;
    }
    if (obj === undefined) errors.push(missing(ref, notFound));
    else found.push(obj);
  }
  if (found.length || !format) out.write(renderInspect(found, format));
  if (errors.length) throw new StatusError(1, errors.join('\n'));
}

/** Resolves undefined where the daemon answered 404, so callers can say "No such X". */
export async function unless404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
