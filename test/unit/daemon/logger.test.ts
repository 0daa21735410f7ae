import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../../src/daemon/logger.js';

test('the logger writes one logfmt line per event and drops what is below its level', () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => { text += d.toString(); });
  const logger = createLogger({ level: 'info', out, now: () => new Date('2024-01-02T03:04:05.000Z') });
  logger.debug('hidden');
  logger.info('API listen on /run/hako/hako.sock');
  logger.warn('two\nlines "quoted"');
  assert.equal(logger.debugEnabled, false);
  assert.equal(text, [
    'time="2024-01-02T03:04:05.000Z" level=info msg="API listen on /run/hako/hako.sock"',
    'time="2024-01-02T03:04:05.000Z" level=warning msg="two\\nlines \\"quoted\\""',
    '',
  ].join('\n'));
});
