/**
 * Go's text/tabwriter (elastic tabstops), as docker's CLI uses it for tables: cells end at "\t";
 * a column's width is its widest cell plus padding, computed over each run of consecutive lines
 * that have that column; the last cell of a line is not part of any column. Widths count
 * terminal cells (East Asian wide characters are two), like docker's fork with go-runewidth.
 */

export interface TabwriterOptions {
  /** Minimal cell width including padding. docker: 10. */
  minWidth?: number;
  /** Width of a tab character when padding with tabs. docker: 1. */
  tabWidth?: number;
  /** Added to the widest cell of a column. docker: 3. */
  padding?: number;
  /** docker: ' '. With '\t', cells are padded with tabs to multiples of tabWidth. */
  padChar?: string;
  /** Right-align cell contents. */
  alignRight?: boolean;
  /** Columns whose cells are all empty take no space. */
  discardEmptyColumns?: boolean;
}

/** docker's table settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABLE: Required<TabwriterOptions> = { minWidth: 10, tabWidth: 1, padding: 3, padChar: ' ', alignRight: false, discardEmptyColumns: false };

interface Cell {
  text: string;
  width: number;
  /** Ended by "\t" (not the last cell of the line). */
  htab: boolean;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Terminal cells a string takes. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x300 && cp <= 0x36f) || cp === 0x200b) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

/** Aligns tab-separated `text` (all of it at once, like writing it and calling Flush). Defaults: DOCKER_TABLE. */
export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const o = { ...DOCKER_TABLE, ...opts };
  const endsWithNewline = text.endsWith('\n');
  const lines: Cell[][] = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((line) => {
    const parts = line.split(/(\t|\v)/);
    const cells: Cell[] = [];
    for (let i = 0; i < parts.length; i += 2) {
      const t = parts[i]!;
      cells.push({ text: t, width: textWidth(t), htab: parts[i + 1] === '\t' });
    }
    return cells;
  });
  let out = '';
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      line.forEach((c, j) => {
        if (j >= widths.length) {
          out += c.text;
          return;
        }
        const padN = widths[j]! - c.width;
        const padding = o.padChar === '\t' ? '\t'.repeat(Math.ceil(Math.max(0, (Math.ceil(widths[j]! / o.tabWidth) * o.tabWidth - c.width)) / o.tabWidth)) : o.padChar.repeat(Math.max(0, padN));
        out += o.alignRight && o.padChar !== '\t' ? padding + c.text : c.text + padding;
      });
      if (i < lines.length - 1 || endsWithNewline) out += '\n';
    }
  };

  // Go's Writer.format: recursive over columns, each column formatted per block of lines.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i]!.length - 1) continue;
      writeLines(line0, i);
      line0 = i;
      let width = o.minWidth;
      let discardable = true;
      for (; i < line1; i++) {
        const line = lines[i]!;
        if (column >= line.length - 1) break;
        const c = line[column]!;
        width = Math.max(width, c.width + o.padding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable && o.discardEmptyColumns) width = 0;
      widths.push(width);
      format(line0, i);
      widths.pop();
      line0 = i; // line i has no cell in this column: the loop may step past it
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out;
}
