import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LinePrefixer, prefixWidth } from '../../../src/cli/commands/compose-logs.js';

test('log lines get the container name padded to the longest, as compose prints them, split chunks joined', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => { text += b.toString(); });
  const width = prefixWidth([{ name: 'p-web-1' }, { name: 'p-client-1' }]);
  const p = new LinePrefixer(out, `${'p-web-1'.padEnd(width)}  | `);
  p.write('hel');
  p.write('lo\r\nwor');
  p.write('ld\n');
  p.write('no newline');
  p.flush();
  assert.equal(text, 'p-web-1     | hello\np-web-1     | world\np-web-1     | no newline\n');
});

test('a character split between two chunks of output is printed whole', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => { text += b.toString(); });
  const p = new LinePrefixer(out, 'p-web-1  | ');
  const bytes = Buffer.from('héllo\n€');
  p.write(bytes.subarray(0, 2));
  p.write(bytes.subarray(2, 8));
  p.write(bytes.subarray(8));
  p.flush();
  assert.equal(text, 'p-web-1  | héllo\np-web-1  | €\n');
});
