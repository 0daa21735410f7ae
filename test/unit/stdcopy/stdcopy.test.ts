import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { demux, encodeFrame, frameHeader, FrameDecoder, stdCopy, type Frame } from '../../../src/stdcopy/index.js';

function join(frames: Frame[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of frames) out[f.stream] = (out[f.stream] ?? '') + f.data.toString();
  return out;
}

test('encodeFrame writes the 8-byte header docker clients expect', () => {
  const frame = encodeFrame('stderr', 'hi');
  assert.deepEqual([...frame], [2, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
  assert.deepEqual([...frameHeader('stdout', 300)], [1, 0, 0, 0, 0, 0, 1, 44]);
});

test('a stream cut at every possible offset decodes to the same output', () => {
  const stream = Buffer.concat([encodeFrame('stdout', 'hello '), encodeFrame('stderr', 'oops\n'), encodeFrame('stdout', ''), encodeFrame('stdout', 'world\n')]);
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b += 3) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(stream.subarray(0, a)), ...decoder.push(stream.subarray(a, b)), ...decoder.push(stream.subarray(b))];
      assert.deepEqual(join(frames), { stdout: 'hello world\n', stderr: 'oops\n' }, `cut at ${a},${b}`);
      assert.equal(decoder.atBoundary, true);
    }
  }
});

test('demux hands out a large payload as it arrives instead of holding the frame back', async () => {
  const big = Buffer.alloc(100_000, 0x61);
  const frame = encodeFrame('stdout', big);
  async function* source() {
    for (let i = 0; i < frame.length; i += 4096) yield frame.subarray(i, i + 4096);
  }
  let pieces = 0;
  let total = 0;
  for await (const f of demux(source())) {
    pieces++;
    total += f.data.length;
  }
  assert.equal(total, big.length);
  assert.ok(pieces > 1);
});

test('demux refuses a stream that ends inside a frame', async () => {
  async function* source() {
    yield encodeFrame('stdout', 'abcdef').subarray(0, 10);
  }
  await assert.rejects(async () => { for await (const _ of demux(source())) { /* drain */ } }, /middle of a frame/);
});

test('the decoder refuses an unknown stream id instead of guessing', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.from('hello world, not framed')), /unknown stream id/);
});

test('stdCopy splits stdout and stderr and throws the text of a systemerr frame', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  async function* ok() {
    yield Buffer.concat([encodeFrame('stdout', 'a'), encodeFrame('stderr', 'b')]);
  }
  await stdCopy(ok(), { stdout, stderr });
  assert.equal(Buffer.concat(out).toString(), 'a');
  assert.equal(Buffer.concat(err).toString(), 'b');
  async function* failing() {
    yield encodeFrame('systemerr', 'exec failed: no such file');
  }
  await assert.rejects(stdCopy(failing(), { stdout, stderr: null }), /exec failed: no such file/);
});
