import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTemplate as f, Template, TemplateError } from '../../../src/cli/format/index.js';

const inspect = {
  Id: 'abc123',
  Name: '/web',
  Config: { Image: 'nginx:1', Labels: { 'com.example.team': 'blue', tier: 'front' }, Env: ['A=1', 'B=2'], Cmd: null },
  State: { Running: true, ExitCode: 0, Pid: 42 },
  Mounts: [] as unknown[],
};

test('fields, nested fields and map keys render as docker renders them', () => {
  assert.equal(f('{{.Name}}', inspect), '/web');
  assert.equal(f('{{.Config.Image}} pid={{.State.Pid}}', inspect), 'nginx:1 pid=42');
  assert.equal(f('{{.Config.Labels.tier}}', inspect), 'front');
  assert.equal(f('{{index .Config.Labels "com.example.team"}}', inspect), 'blue');
  assert.equal(f('{{.Config.Labels.missing}}', inspect), '<no value>');
  assert.equal(f('[{{index .Config.Labels "missing"}}]', inspect), '[]');
  assert.equal(f('{{.Config.Env}} {{.Config.Cmd}} {{.State.Running}}', inspect), '[A=1 B=2] <nil> true');
  assert.equal(f('{{.Config.Labels}}', inspect), 'map[com.example.team:blue tier:front]');
});

test('text and whitespace outside actions are kept exactly, and trim markers eat whitespace', () => {
  assert.equal(f('  a\t{{.Name}} \n b ', inspect), '  a\t/web \n b ');
  assert.equal(f('{{ .Name -}}  X {{- "y" }}', inspect), '/webXy');
  assert.equal(f('a \n {{- /* a comment */ -}} \n b', inspect), 'ab');
  assert.equal(f('{{- .Name }}', inspect), '/web');
});

test('json prints compact JSON without HTML escaping', () => {
  assert.equal(f('{{json .Config.Labels}}', inspect), '{"com.example.team":"blue","tier":"front"}');
  assert.equal(f('{{json .State}}', inspect), '{"Running":true,"ExitCode":0,"Pid":42}');
  assert.equal(f('{{json "<a&b>"}}', null), '"<a&b>"');
  assert.equal(f('{{json .Mounts}}', inspect), '[]');
});

test('range over lists and maps, with variables, else and break', () => {
  assert.equal(f('{{range .Config.Env}}[{{.}}]{{end}}', inspect), '[A=1][B=2]');
  assert.equal(f('{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}', inspect), '0:A=1 1:B=2 ');
  assert.equal(f('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', inspect), 'com.example.team=blue;tier=front;');
  assert.equal(f('{{range .Mounts}}x{{else}}no mounts{{end}}', inspect), 'no mounts');
  assert.equal(f('{{range .Config.Env}}{{if eq . "B=2"}}{{break}}{{end}}{{.}}{{end}}', inspect), 'A=1');
  assert.equal(f('{{range $e := .Config.Env}}{{$e}}{{$.Name}} {{end}}', inspect), 'A=1/web B=2/web ');
});

test('if, else if, with and the logic functions follow Go truth rules', () => {
  assert.equal(f('{{if .State.Running}}up{{else}}down{{end}}', inspect), 'up');
  assert.equal(f('{{if .State.ExitCode}}failed{{else if .State.Running}}running{{else}}ok{{end}}', inspect), 'running');
  assert.equal(f('{{with .Config}}{{.Image}}{{end}}', inspect), 'nginx:1');
  assert.equal(f('{{with .Mounts}}some{{else}}none{{end}}', inspect), 'none');
  assert.equal(f('{{and 1 0 2}} {{or 0 "" "z"}} {{not 0}} {{and .State.Running (eq .State.Pid 42)}}', inspect), '0 z true true');
  assert.equal(f('{{if and .Mounts .Nope.Deeper}}x{{else}}short-circuit{{end}}', { Mounts: [] }), 'short-circuit');
  assert.equal(f('{{eq .Name "/db" "/web"}} {{ne 1 2}} {{lt 1 2}} {{gt "b" "a"}} {{le 2 2}} {{ge 1 2}}', inspect), 'true true true true true false');
});

test('pipelines pass the value as the last argument', () => {
  assert.equal(f('{{.Name | upper}}', inspect), '/WEB');
  assert.equal(f('{{"," | join .Config.Env}}', inspect), 'A=1,B=2');
  assert.equal(f('{{split "a b c" " " | len}}', null), '3');
  assert.throws(() => f('{{.Config.Env | join ","}}', inspect), /wrong type for value; expected string; got \[\]interface \{\}/);
  assert.equal(f('{{.Id | printf "%s-%s" "x"}}', inspect), 'x-abc123');
});

test('docker string functions: split, join, lower, upper, title, truncate, pad', () => {
  assert.equal(f('{{join (split "a b c" " ") "-"}} {{title "hello world"}} {{truncate "abcdef" 3}}|{{pad "x" 1 2}}|{{pad "" 1 1}}|', null), 'a-b-c Hello World abc| x  ||');
  assert.equal(f('{{lower "ABC"}}{{upper "def"}}{{truncate "ab" 5}}', null), 'abcDEFab');
});

test('printf, print and println format like Go fmt', () => {
  assert.equal(f('{{printf "%5s|%-4d|%q|%v" "linux" 7 "a" 1.5}}', null), 'linux|7   |"a"|1.5');
  assert.equal(f('{{printf "%d" "x"}} {{println 1 2}}', null), '%!d(string=x) 1 2\n');
  assert.equal(f('{{printf "%.2f %x %05d %t %%"  3.14159 255 42 true}}', null), '3.14 ff 00042 true %');
  assert.equal(f('{{printf "%s"}}', null), '%!s(MISSING)');
  assert.equal(f('{{print "a" 1 2 "b"}}', null), 'a1 2b');
});

test('len, index and slice work on strings, lists and maps', () => {
  assert.equal(f('{{len .Config.Env}} {{len .Config.Labels}} {{len "héllo"}}', inspect), '2 2 6');
  assert.equal(f('{{index .Config.Env 1}} {{slice "abcdef" 1 3}} {{slice .Config.Env 1}}', inspect), 'B=2 bc [B=2]');
});

test('methods on row objects are called, with arguments when given', () => {
  class Row {
    #labels = new Map([['com.example', 'yes']]);
    ID(): string {
      return 'c0ffee';
    }
    get Names(): string {
      return 'web-1';
    }
    Label(name: string): string {
      return this.#labels.get(name) ?? '';
    }
  }
  assert.equal(f('{{.ID}} {{.Names}} {{.Label "com.example"}} [{{.Label "nope"}}]', new Row()), 'c0ffee web-1 yes []');
  assert.equal(f('{{"com.example" | .Label}}', new Row()), 'yes');
});

test('variables are declared, assigned and scoped to their block', () => {
  assert.equal(f('{{$n := .Name}}{{$n}}', inspect), '/web');
  assert.equal(f('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', null), '2');
  assert.equal(f('{{$.Name}}{{with .Config}}{{$.Name}}{{.Image}}{{end}}', inspect), '/web/webnginx:1');
  assert.throws(() => f('{{if true}}{{$y := 1}}{{end}}{{$y}}', null), /undefined variable "\$y"/);
});

test('an unknown field is an execution error in Go words, with line and column', () => {
  class Container {
    get ID(): string {
      return 'x';
    }
  }
  assert.throws(() => f('{{.Nope}}', new Container()), (e: unknown) => e instanceof TemplateError && e.message === 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type Container');
  assert.throws(() => f('line\n  {{.Config.Nope}}', inspect), { message: 'template: :2:4: executing "" at <.Config.Nope>: can\'t evaluate field Nope in type struct' });
  assert.throws(() => f('{{.Name.Foo}}', inspect), /can't evaluate field Foo in type string/);
});

test('calling a non-method with arguments and wrong argument counts are errors', () => {
  assert.throws(() => f('{{.Config.Labels.tier "x"}}', inspect), /tier is not a method but has arguments/);
  assert.throws(() => f('{{json .Name 1}}', inspect), /wrong number of args for json: want 1 got 2/);
  assert.throws(() => f('{{index .Config.Env 5}}', inspect), /error calling index: index out of range: 5/);
  assert.throws(() => f('{{lower 1}}', null), /wrong type for value; expected string; got int/);
});

test('parse errors are TemplateErrors that name the problem', () => {
  assert.throws(() => Template.parse('{{.Name'), (e: unknown) => e instanceof TemplateError && e.message === 'template: :1: unclosed action');
  assert.throws(() => Template.parse('{{foo}}'), { message: 'template: :1: function "foo" not defined' });
  assert.throws(() => Template.parse('{{if .X}}'), /unexpected EOF/);
  assert.throws(() => Template.parse('{{end}}'), /unexpected \{\{end\}\}/);
  assert.throws(() => Template.parse('{{"abc}}'), /unterminated quoted string/);
  assert.throws(() => Template.parse('{{break}}'), /\{\{break\}\} outside \{\{range\}\}/);
});

test('string literals understand Go escapes and raw strings', () => {
  assert.equal(f('{{"a\\tb\\u00e9"}}|{{`raw\\n`}}', null), 'a\tbé|raw\\n');
});

test('extra functions can be added', () => {
  assert.equal(f('{{shout .Name}}', inspect, { funcs: { shout: (s: unknown) => `${String(s)}!` } }), '/web!');
});
