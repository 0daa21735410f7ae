import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { engineForFile, collect, ALL_LOGS } from '../../support/engine.js';

const t = engineForFile();

function countLines(text: string): { n: number; last: string } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return { n: lines.length, last: lines.at(-1) ?? '' };
}

test('200,000 lines written in a burst are all in the logs, in order', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['seq', '1', '200000'] }, {});
  const exited = c.wait(Id, 'next-exit');
  await c.start(Id);
  await exited;
  const { stdout } = await collect((await c.logs(Id, ALL_LOGS)).entries);
  assert.deepEqual(countLines(stdout), { n: 200000, last: '200000' });
  const tail = await collect((await c.logs(Id, { ...ALL_LOGS, tail: 3 })).entries);
  assert.equal(tail.stdout, '199998\n199999\n200000\n');
});

test('logs -f of a running container ends, complete, when it exits', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; seq 1 5000; printf partial'] }, {});
  await c.start(Id);
  const { stdout } = await collect((await c.logs(Id, { ...ALL_LOGS, follow: true })).entries);
  assert.ok(stdout.startsWith('1\n2\n'));
  assert.ok(stdout.endsWith('5000\npartial'), JSON.stringify(stdout.slice(-20)));
});

test('max-size rotates the log and max-file bounds the files kept', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); seq 1 100; sleep 0.05; done; echo last-line'],
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '4k', 'max-file': '3' } } },
  }, {});
  const exited = c.wait(Id, 'next-exit');
  await c.start(Id);
  await exited;
  const info = await c.inspect(Id);
  const dir = join(String(info.LogPath), '..');
  const logs = readdirSync(dir).filter((f) => f.startsWith(`${Id}-json.log`));
  assert.ok(logs.length >= 2 && logs.length <= 3, `log files: ${logs.join(', ')}`);
  const { stdout } = await collect((await c.logs(Id, ALL_LOGS)).entries);
  assert.ok(stdout.endsWith('100\nlast-line\n'));
  assert.ok(stdout.length < 40 * 292, 'older content was rotated away');
});

test('an attached client of an auto-remove container gets all output before removal', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['seq', '1', '50000'], HostConfig: { AutoRemove: true } }, {});
  const session = await c.attach(Id, { stream: true, logs: false, stdin: false, stdout: true, stderr: true });
  const output = collect(session.output);
  const removed = c.wait(Id, 'removed');
  await c.start(Id);
  const { stdout } = await output;
  await removed;
  assert.deepEqual(countLines(stdout), { n: 50000, last: '50000' });
  await assert.rejects(c.inspect(Id), /No such container/);
});

test('log driver none keeps no log and says logs cannot be read', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['echo', 'x'], HostConfig: { LogConfig: { Type: 'none', Config: {} } } }, {});
  const exited = c.wait(Id, 'next-exit');
  await c.start(Id);
  await exited;
  await assert.rejects(c.logs(Id, ALL_LOGS), /does not support reading/);
});

test('--init runs tini as PID 1 in front of the command', async () => {
  const c = t.engine.containers;
  const { Id } = await c.create({ Image: 'busybox', Cmd: ['cat', '/proc/1/cmdline'], HostConfig: { Init: true } }, {});
  const exited = c.wait(Id, 'next-exit');
  await c.start(Id);
  assert.equal((await exited).StatusCode, 0);
  const { stdout } = await collect((await c.logs(Id, ALL_LOGS)).entries);
  assert.match(stdout.replace(/\0/g, ' '), /^\/sbin\/docker-init -- cat/);
});
