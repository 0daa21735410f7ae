import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDockerfile, expandWord, expandWords, expandHeredoc, splitWords, stageGraph, neededStages,
  goDuration, expandPorts, healthcheck, DockerfileError,
} from '../../../src/build/index.js';
import { IgnoreMatcher } from '../../../src/archive/index.js';

const one = (text: string) => {
  const p = parseDockerfile(text);
  assert.equal(p.instructions.length, 1, JSON.stringify(p.instructions));
  return p.instructions[0] as NonNullable<(typeof p.instructions)[0]>;
};
const vars: Record<string, string> = { A: 'a', EMPTY: '', SPACE: 'x y' };
const lookup = (n: string) => vars[n];

describe('Dockerfile parser', () => {
  test('every instruction keyword is known, in any case', () => {
    const text = [
      'from busybox AS base', 'RUN echo hi', 'CMD ["sh"]', 'ENTRYPOINT ["tini", "--"]', 'LABEL a=b', 'EXPOSE 80',
      'ENV A=1', 'ADD a /a', 'COPY b /b', 'WORKDIR /w', 'USER app', 'ARG X', 'VOLUME /v', 'STOPSIGNAL SIGINT',
      'HEALTHCHECK NONE', 'SHELL ["/bin/bash", "-c"]', 'ONBUILD RUN x', 'MAINTAINER me',
    ].join('\n');
    const cmds = parseDockerfile(text).instructions.map((i) => i.cmd);
    assert.deepEqual(cmds, ['from', 'run', 'cmd', 'entrypoint', 'label', 'expose', 'env', 'add', 'copy', 'workdir', 'user', 'arg', 'volume', 'stopsignal', 'healthcheck', 'shell', 'onbuild', 'maintainer']);
  });

  test('an unknown instruction names the file and line', () => {
    assert.throws(() => parseDockerfile('FROM busybox\n\n# c\nCOPPY a b\n'), (e: Error) => e instanceof DockerfileError && e.message === 'Dockerfile:4: unknown instruction: COPPY');
    assert.throws(() => parseDockerfile('FROM x\nRUNN y', 'app.Dockerfile'), /^Error: app\.Dockerfile:2: unknown instruction: RUNN$|app\.Dockerfile:2: unknown instruction: RUNN/);
  });

  test('line continuations join lines; comments and empty lines inside are dropped with a warning for the empty one', () => {
    const p = parseDockerfile('FROM busybox\nRUN echo a \\\n  # a comment\n\n  && echo b\nCMD x\n');
    const run = p.instructions[1];
    assert.equal(run?.rest, 'echo a   && echo b');
    assert.equal(run?.line, 2);
    assert.equal(p.instructions[2]?.line, 6);
    assert.ok(p.warnings.some((w) => /empty continuation line/.test(w)));
  });

  test('# escape=` changes the continuation character; directives only at the top', () => {
    const p = parseDockerfile('# escape=`\n# syntax=docker/dockerfile:1\nFROM x\nRUN dir c:\\ `\n  /w\n');
    assert.equal(p.directives.escape, '`');
    assert.equal(p.directives.syntax, 'docker/dockerfile:1');
    assert.equal(p.instructions[1]?.rest, 'dir c:\\   /w');
    const late = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b');
    assert.equal(late.directives.escape, '\\');
    assert.equal(late.instructions[1]?.rest, 'a  b');
    assert.throws(() => parseDockerfile('# escape=x\nFROM a'), /Dockerfile:1: invalid escape token/);
  });

  test('exec form is a JSON array; anything else is shell form, single quotes warned about', () => {
    assert.deepEqual(one('CMD ["echo", "a b"]').json, ['echo', 'a b']);
    assert.equal(one('CMD echo "a b"').json, null);
    const p = parseDockerfile("CMD ['echo', 'x']");
    assert.equal(p.instructions[0]?.json, null);
    assert.ok(p.warnings.some((w) => /JSON arguments recommended/.test(w)));
    assert.throws(() => parseDockerfile('SHELL /bin/bash -c'), /SHELL requires the arguments to be in JSON form/);
  });

  test('flags before the arguments, unknown flags refused', () => {
    const c = one('COPY --from=build --chown=1:2 --chmod=0644 /a /b');
    assert.deepEqual(c.flags, [{ name: 'from', value: 'build' }, { name: 'chown', value: '1:2' }, { name: 'chmod', value: '0644' }]);
    assert.equal(c.rest, '/a /b');
    assert.throws(() => parseDockerfile('COPY --form=x a b'), /Dockerfile:1: COPY: unknown flag: --form/);
    assert.equal(one('RUN echo --from=x').flags.length, 0);
  });

  test('heredocs: RUN <<EOF, COPY <<EOF /file, <<-, quoted, several per line, unterminated', () => {
    const r = one('RUN <<EOF\necho a\necho b\nEOF\n');
    assert.deepEqual(r.heredocs, [{ name: 'EOF', chomp: false, quoted: false, content: 'echo a\necho b\n' }]);
    const c = parseDockerfile('FROM x\nCOPY <<A <<"B" /dir/\n\tone\nA\n$two\nB\nRUN true\n');
    assert.deepEqual(c.instructions[1]?.heredocs.map((h) => [h.name, h.quoted, h.content]), [['A', false, '\tone\n'], ['B', true, '$two\n']]);
    assert.equal(c.instructions[2]?.line, 7);
    assert.equal(one('RUN <<-EOF\n\t\techo t\n\tEOF').heredocs[0]?.content, 'echo t\n');
    assert.equal(one('RUN cat <<<"x"').heredocs.length, 0);
    assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n'), /Dockerfile:2: unterminated heredoc <<EOF/);
  });

  test('argument checks name the line', () => {
    assert.throws(() => parseDockerfile('FROM a b'), /Dockerfile:1: FROM requires either one or three arguments/);
    assert.throws(() => parseDockerfile('FROM x\nCOPY onlyone'), /Dockerfile:2: COPY requires at least two arguments/);
    assert.throws(() => parseDockerfile('FROM x\nENV'), /Dockerfile:2: ENV requires at least one argument/);
    assert.throws(() => parseDockerfile('FROM x\nONBUILD ONBUILD RUN x'), /Chaining ONBUILD/);
    assert.throws(() => parseDockerfile('FROM x\nHEALTHCHECK echo'), /HEALTHCHECK requires "CMD <command>" or "NONE"/);
    assert.throws(() => parseDockerfile('FROM x\nWORKDIR a b'), /WORKDIR requires exactly one argument/);
  });

  test('ENV legacy form is warned about', () => {
    const p = parseDockerfile('FROM x\nENV A b c');
    assert.ok(p.warnings.some((w) => /legacy key\/value format/.test(w)));
  });
});

describe('variable substitution', () => {
  const cases: Array<[string, string]> = [
    ['$A', 'a'], ['${A}', 'a'], ['pre${A}post', 'preapost'],
    ['${A:-x}', 'a'], ['${EMPTY:-x}', 'x'], ['${UNSET:-x}', 'x'], ['${EMPTY-x}', ''], ['${UNSET-x}', 'x'],
    ['${A:+x}', 'x'], ['${EMPTY:+x}', ''], ['${EMPTY+x}', 'x'], ['${UNSET+x}', ''],
    ['\\$A', '$A'], ["'$A'", '$A'], ['"$A b"', 'a b'], ['"\\$A"', '$A'], ['a\\ b', 'a b'], ['$', '$'], ['${A:-${EMPTY:-n}}', 'a'],
    ['${UNSET:-${A}}', 'a'], ['$UNSET', ''],
  ];
  for (const [input, want] of cases) {
    test(`${input} -> ${JSON.stringify(want)}`, () => assert.equal(expandWord(input, lookup), want));
  }

  test('the names looked up are reported (the args a step uses)', () => {
    const used = new Set<string>();
    expandWord('${A}-$B-${C:-x}', lookup, '\\', used);
    assert.deepEqual([...used].sort(), ['A', 'B', 'C']);
  });

  test('words split on unquoted whitespace; a variable holding a space stays one word', () => {
    assert.deepEqual(splitWords('a "b c" d\\ e'), ['a', '"b c"', 'd\\ e']);
    assert.deepEqual(expandWords('k="v 1" $SPACE', lookup), ['k=v 1', 'x y']);
    assert.throws(() => splitWords('a "b'), /unmatched "/);
  });

  test('unsupported modifiers and bad substitutions are errors', () => {
    assert.throws(() => expandWord('${A#x}', lookup), /unsupported modifier/);
    assert.throws(() => expandWord('${}', lookup), /bad substitution/);
    assert.throws(() => expandWord('${UNSET:?must be set}', lookup), /UNSET: must be set/);
  });

  test('the escape directive applies to substitution', () => {
    assert.equal(expandWord('`$A', lookup, '`'), '$A');
    assert.equal(expandWord('c:\\dir', lookup, '`'), 'c:\\dir');
  });

  test('heredoc bodies expand variables but keep quotes and backslashes', () => {
    assert.equal(expandHeredoc('say "$A" \'${A}\' \\n \\$A\n', lookup), 'say "a" \'a\' \\n $A\n');
  });
});

describe('.dockerignore', () => {
  const m = new IgnoreMatcher(['# comment', 'node_modules', '*.log', '!keep.log', '**/tmp', 'docs/**/*.md', '/abs', '[ab].txt', 'dir?']);
  const cases: Array<[string, boolean]> = [
    ['node_modules', true], ['node_modules/x/y.js', true], ['a.log', true], ['keep.log', false], ['sub/a.log', false],
    ['x/y/tmp', true], ['tmp/file', true], ['docs/a.md', true], ['docs/x/y/b.md', true], ['docs/a.txt', false],
    ['abs', true], ['a.txt', true], ['c.txt', false], ['dir1/f', true], ['dir12', false], ['src/main.ts', false],
  ];
  for (const [path, want] of cases) test(`${path} ${want ? 'is' : 'is not'} ignored`, () => assert.equal(m.ignored(path), want));
  test('later lines win over earlier ones', () => {
    const later = new IgnoreMatcher(['!a.txt', '*.txt']);
    assert.equal(later.ignored('a.txt'), true);
  });
});

describe('build checks', () => {
  test('a FROM using an ARG not declared before the first FROM is warned about, by rule and line', () => {
    const p = parseDockerfile('ARG BASE=busybox\nFROM $BASE AS a\nFROM ${VERSION:-1}-alpine\nARG LATE\nFROM --platform=$BUILDPLATFORM x:$LATE');
    assert.deepEqual(p.warnings, [
      "Dockerfile:3: UndefinedArgInFrom: FROM argument 'VERSION' is not declared",
      "Dockerfile:5: UndefinedArgInFrom: FROM argument 'LATE' is not declared",
    ]);
    assert.deepEqual(parseDockerfile('FROM a\\$B').warnings, [], 'an escaped $ is no reference');
  });

  test('MAINTAINER is deprecated; every warning names its rule', () => {
    const p = parseDockerfile("FROM a\nMAINTAINER me\nENV A 1\nCMD ['x']");
    assert.deepEqual(p.warnings.map((w) => w.split(': ')[1]), ['MaintainerDeprecated', 'LegacyKeyValueFormat', 'JSONArgsRecommended']);
  });

  test('# check=skip= turns rules off, skip=all all of them; error=true fails the build naming the rules', () => {
    const text = "FROM a\nMAINTAINER me\nENV A 1\n";
    assert.deepEqual(parseDockerfile(`# check=skip=MaintainerDeprecated\n${text}`).warnings.map((w) => w.split(': ')[1]), ['LegacyKeyValueFormat']);
    assert.deepEqual(parseDockerfile(`# check=skip=all\n${text}`).warnings, []);
    assert.throws(() => parseDockerfile(`# check=error=true\n${text}`), (e: Error) => e instanceof DockerfileError
      && /^lint violation found for rules: MaintainerDeprecated, LegacyKeyValueFormat\nDockerfile:3: MaintainerDeprecated/.test(e.message));
    assert.doesNotThrow(() => parseDockerfile(`# check=skip=all;error=true\n${text}`));
    assert.throws(() => parseDockerfile(`# check=error=maybe\n${text}`), /Dockerfile:1: check directive: error must be true or false/);
  });
});

describe('stages', () => {
  const parsed = parseDockerfile([
    'ARG BASE=busybox', 'FROM $BASE AS deps', 'RUN a', 'FROM busybox AS unused', 'RUN b',
    'FROM deps AS build', 'RUN c', 'FROM scratch', 'COPY --from=build /x /x', 'COPY --from=0 /y /y',
  ].join('\n')).instructions;
  const graph = stageGraph(parsed);
  test('global ARGs come before the first FROM', () => assert.equal(graph.globalArgs.length, 1));
  test('only the stages the target needs are built, dependencies first', () => {
    const lookup = (n: string) => (n === 'BASE' ? 'busybox' : undefined);
    assert.deepEqual(neededStages(graph, undefined, lookup).map((s) => s.index), [0, 2, 3]);
    assert.deepEqual(neededStages(graph, 'unused', lookup).map((s) => s.index), [1]);
    assert.throws(() => neededStages(graph, 'nope', lookup), /failed to reach build target nope/);
  });
  test('duplicate stage names and instructions before FROM are refused', () => {
    assert.throws(() => stageGraph(parseDockerfile('FROM a AS x\nFROM b AS X').instructions), /Dockerfile:2: duplicate stage name "x"/);
    assert.throws(() => stageGraph(parseDockerfile('RUN x\nFROM a').instructions), /Dockerfile:1: no build stage/);
  });
});

describe('instruction values', () => {
  test('Go durations', () => {
    assert.equal(goDuration('30s'), 30e9);
    assert.equal(goDuration('1m30s'), 90e9);
    assert.equal(goDuration('500ms'), 5e8);
    assert.throws(() => goDuration('5'), /invalid duration "5"/);
  });
  test('EXPOSE ports and ranges', () => {
    assert.deepEqual(expandPorts('80'), ['80/tcp']);
    assert.deepEqual(expandPorts('53/UDP'), ['53/udp']);
    assert.deepEqual(expandPorts('8000-8002'), ['8000/tcp', '8001/tcp', '8002/tcp']);
    assert.throws(() => expandPorts('http'), /invalid containerPort: http/);
  });
  test('HEALTHCHECK with every option, exec form, and NONE', () => {
    const p = parseDockerfile('HEALTHCHECK --interval=10s --timeout=3s --start-period=1m --start-interval=2s --retries=4 CMD ["curl", "-f", "x"]\nHEALTHCHECK NONE');
    const [a, b] = p.instructions;
    assert.deepEqual(healthcheck(a as never, ['/bin/sh', '-c']), { Test: ['CMD', 'curl', '-f', 'x'], Interval: 10e9, Timeout: 3e9, StartPeriod: 60e9, StartInterval: 2e9, Retries: 4 });
    assert.deepEqual(healthcheck(b as never, ['/bin/sh', '-c']), { Test: ['NONE'] });
  });
});
