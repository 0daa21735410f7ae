/**
 * cli/format: pure output helpers for a docker-compatible CLI, no I/O. A Go text/template engine
 * for `--format` (with docker's functions), docker's `table` formats over a port of Go's
 * tabwriter, and docker's human units: sizes, durations, "Up 5 minutes", short ids, and parsing
 * of "10m"-style sizes and "1m30s"-style durations.
 *
 * Left to the commands (cli/commands): choosing default formats and header titles, fetching
 * rows, writing to stdout, and prefixing template errors with "template parsing error: ".
 */

export { Template, TemplateError, formatTemplate, type TemplateOptions } from './template.js';
export type { TemplateFunc } from './funcs.js';
export { contextRow } from './funcs.js';
export { formatTable, isTableFormat, templateString, type FormatTableOptions } from './table.js';
export { tabwrite, textWidth, DOCKER_TABLE, type TabwriterOptions } from './tabwriter.js';
export { humanSize, humanSizeWithPrecision, bytesSize, ramInBytes, fromHumanSize, humanDuration, ago, parseDuration } from './units.js';
export { containerStatus, truncateId, generateId, isFullId, isShortId, type ContainerStatusInput } from './status.js';
