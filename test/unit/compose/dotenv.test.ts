import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDotenv } from '../../../src/compose/loader/index.js';

const env: Record<string, string> = { HOST_VAR: 'h' };
const parse = (text: string): Record<string, string> => Object.fromEntries(parseDotenv(text, (k) => env[k]));

test('.env values as compose-go reads them', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['A=1\nB = 2 \n', { A: '1', B: '2' }],
    ['export A=1\n  export B=2', { A: '1', B: '2' }],
    ['A=x #comment\nB=x#no-comment\nC=x\t#tab-is-not-a-comment-start', { A: 'x', B: 'x#no-comment', C: 'x\t#tab-is-not-a-comment-start' }],
    ["A='$HOST_VAR \\n \\' x'", { A: "$HOST_VAR \\n ' x" }],
    ['A="a\\tb\\nc \\"q\\" \\\\ \\$HOST_VAR \\q"', { A: 'a\tb\nc "q" \\ $HOST_VAR \\q' }],
    ['A="\\0101"', { A: 'A' }],
    ['A="one\ntwo"\nB=after', { A: 'one\ntwo', B: 'after' }],
    ['A="q" # trailing comment\nB=1', { A: 'q', B: '1' }],
    ['A=$HOST_VAR-${HOST_VAR}\nB=${A}!\nC="${UNSET:-dflt}"', { A: 'h-h', B: 'h-h!', C: 'dflt' }],
    ['A: yaml style', { A: 'yaml style' }],
    ['HOST_VAR\nUNSET_VAR\n', { HOST_VAR: 'h' }],
    ['# only a comment\n\n\n', {}],
    ['A=', { A: '' }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parse(text), want, JSON.stringify(text));
});

test('.env syntax errors name the line', () => {
  assert.throws(() => parse('A=1\nB!C=2\n'), /^Error: line 2: unexpected character "!" in variable name "B!C=2"$/);
  assert.throws(() => parse('A="open\nB=2\n'), /^Error: line 1: unterminated quoted value "open$/);
});

test('format raw keeps values as written', () => {
  assert.deepEqual(Object.fromEntries(parseDotenv('A="${HOST_VAR}" # x\n', () => 'v', { raw: true })), { A: '"${HOST_VAR}" # x' });
});
