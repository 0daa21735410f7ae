import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagSet, FlagError, Flags, parseGoDuration, type FlagDef } from '../../../src/cli/flags.js';

const defs: FlagDef[] = [
  { name: 'detach', short: 'd', kind: 'bool', usage: '' },
  { name: 'interactive', short: 'i', kind: 'bool', usage: '' },
  { name: 'tty', short: 't', kind: 'bool', usage: '' },
  { name: 'publish', short: 'p', kind: 'stringArray', usage: '' },
  { name: 'env', short: 'e', kind: 'stringArray', usage: '' },
  { name: 'name', kind: 'string', usage: '' },
  { name: 'last', short: 'n', kind: 'int', default: -1, usage: '' },
  { name: 'sig-proxy', kind: 'bool', default: true, usage: '' },
  { name: 'interval', kind: 'duration', usage: '' },
  { name: 'network', kind: 'stringArray', aliases: ['net'], usage: '' },
];

function parse(argv: string[], interspersed = true): { f: Flags; args: string[] } {
  const p = new FlagSet(defs, { interspersed }).parse(argv);
  return { f: new Flags(p), args: p.args };
}

test('combined shorthands set each boolean and give the last one its value', () => {
  const { f, args } = parse(['-dp', '8080:80', 'img']);
  assert.equal(f.bool('detach'), true);
  assert.deepEqual(f.array('publish'), ['8080:80']);
  assert.deepEqual(args, ['img']);
});

test('-it sets interactive and tty', () => {
  const { f } = parse(['-it']);
  assert.equal(f.bool('interactive'), true);
  assert.equal(f.bool('tty'), true);
});

test('values may be attached, separated, or given with =', () => {
  const { f } = parse(['-eA=1', '-e', 'B=2', '--env=C=3', '--env', 'D=4', '-p=80', '--name=web']);
  assert.deepEqual(f.array('env'), ['A=1', 'B=2', 'C=3', 'D=4']);
  assert.deepEqual(f.array('publish'), ['80']);
  assert.equal(f.string('name'), 'web');
});

test('--flag=false turns off a boolean whose default is true', () => {
  const { f } = parse(['--sig-proxy=false']);
  assert.equal(f.bool('sig-proxy'), false);
  assert.ok(f.has('sig-proxy'));
  assert.equal(parse([]).f.bool('sig-proxy'), true);
});

test('-- ends the flags and - is an argument', () => {
  const { f, args } = parse(['-d', '--', '-i', '-']);
  assert.equal(f.bool('interactive'), false);
  assert.deepEqual(args, ['-i', '-']);
  assert.deepEqual(parse(['-', '-d']).args, ['-']);
});

test('with interspersed off, flags after the first argument belong to the command', () => {
  const { f, args } = parse(['-d', 'busybox', 'ls', '-l', '--name', 'x'], false);
  assert.equal(f.bool('detach'), true);
  assert.equal(f.string('name'), '');
  assert.deepEqual(args, ['busybox', 'ls', '-l', '--name', 'x']);
});

test('with interspersed on, flags may follow arguments', () => {
  const { f, args } = parse(['a', '-d', 'b']);
  assert.equal(f.bool('detach'), true);
  assert.deepEqual(args, ['a', 'b']);
});

test('unknown flags fail with pflag messages', () => {
  assert.throws(() => parse(['--foo']), new FlagError('unknown flag: --foo'));
  assert.throws(() => parse(['-x']), new FlagError("unknown shorthand flag: 'x' in -x"));
  assert.throws(() => parse(['-dx']), new FlagError("unknown shorthand flag: 'x' in -dx"));
});

test('a flag missing its value fails', () => {
  assert.throws(() => parse(['--name']), new FlagError('flag needs an argument: --name'));
  assert.throws(() => parse(['-e']), new FlagError("flag needs an argument: 'e' in -e"));
});

test('integers are checked and keep their defaults', () => {
  assert.equal(parse([]).f.number('last'), -1);
  assert.equal(parse(['-n', '3']).f.number('last'), 3);
  assert.throws(() => parse(['-n', 'abc']), /invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax/);
});

test('durations use Go syntax', () => {
  assert.equal(parse(['--interval', '1m30s']).f.number('interval'), 90_000);
  assert.equal(parseGoDuration('300ms'), 300);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.throws(() => parse(['--interval', '10']), /missing unit in duration/);
});

test('alias long names set the same flag', () => {
  assert.deepEqual(parse(['--net', 'a', '--network=b']).f.array('network'), ['a', 'b']);
});

test('--help is recognised, and -h only when no flag owns it', () => {
  assert.equal(new FlagSet(defs).parse(['--help']).help, true);
  assert.equal(new FlagSet(defs).parse(['-h']).help, true);
  const withHostname = new FlagSet([{ name: 'hostname', short: 'h', kind: 'string', usage: '' }]);
  const p = withHostname.parse(['-h', 'box']);
  assert.equal(p.help, false);
  assert.equal(p.values['hostname'], 'box');
});

test('usage lists flags with shorthand, type and default', () => {
  const u = new FlagSet(defs).usage();
  assert.match(u, /^ {2}-d, --detach\s+$/m);
  assert.match(u, / {2}-n, --last int\s+ \(default -1\)$/m);
  assert.match(u, /^ {6}--name string/m);
});
