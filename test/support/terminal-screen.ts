/**
 * What a terminal shows at the end of a program's output: cursor-up redraws (`ESC[nA`), erase to
 * the end of the screen (`ESC[J`) and of the line (`ESC[K`) applied, other escape sequences (colours,
 * cursor visibility) dropped. For tests of live displays run under `script`.
 */
export function screen(raw: string): string[] {
  const lines: string[] = [];
  let row = 0;
  // Only rows are tracked: ESC[K erases the line when the cursor is at its start (after a line
  // break, a carriage return or a cursor-up), and nothing when it follows text just written.
  let atLineStart = true;
  for (const piece of raw.replace(/\r\n/g, '\n').split(/(\x1b\[[0-9;?]*[A-Za-z]|\n|\r)/)) {
    if (piece === '') continue;
    if (piece === '\n') { row++; atLineStart = true; continue; }
    if (piece === '\r') { atLineStart = true; continue; }
    const esc = /^\x1b\[(\d*)([A-Za-z])$/.exec(piece);
    if (esc) {
      if (esc[2] === 'A') { row = Math.max(0, row - Number(esc[1] || 1)); atLineStart = true; }
      if (esc[2] === 'J') lines.length = Math.min(lines.length, row);
      if (esc[2] === 'K' && atLineStart) lines[row] = '';
      continue;
    }
    if (piece.startsWith('\x1b[')) continue;
    lines[row] = (lines[row] ?? '') + piece;
    atLineStart = false;
  }
  return lines.map((l) => l ?? '');
}
