/**
 * docker's `--format` handling (docker/cli cli/command/formatter/formatter.go): `table …` prints a
 * header row from column titles and aligns columns with tabwriter(10, 1, 3, ' '); `json` is
 * `{{json .}}`; anything else renders one line per row. In the format, the two-character
 * sequences `\t` and `\n` mean a tab and a newline, as docker's flags take them.
 */

import { tabwrite, DOCKER_TABLE } from './tabwriter.js';
import { Template, type TemplateOptions } from './template.js';

const TABLE_KEY = 'table';

export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_KEY);
}

/** The template text docker executes for a `--format` value (Format.templateString). */
export function templateString(format: string): string {
  if (format === TABLE_KEY) return '';
  if (format === 'json') return '{{json .}}';
  let out = format.startsWith(TABLE_KEY) ? format.slice(TABLE_KEY.length) : format;
  out = out.replace(/^ +| +$/g, '');
  return out.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export interface FormatTableOptions extends TemplateOptions {
  /** Field name → column title, e.g. `{ ID: 'CONTAINER ID', Image: 'IMAGE' }` (docker's SubHeaderContext). */
  header?: Record<string, string>;
}

/**
 * Renders `rows` with a docker `--format` value: `table {{.ID}}\t{{.Image}}` (header + aligned
 * columns), `json`, or a plain template (one line per row). Throws TemplateError; docker prints
 * such errors prefixed with "template parsing error: ".
 */
export function formatTable(rows: readonly unknown[], format: string, opts: FormatTableOptions = {}): string {
  const tmpl = Template.parse(templateString(format), opts);
  let body = '';
  for (const row of rows) body += `${tmpl.execute(row)}\n`;
  if (!isTableFormat(format)) return body;
  const header = tmpl.executeHeader(opts.header ?? {});
  return tabwrite(`${header}\n${body}`, DOCKER_TABLE);
}
