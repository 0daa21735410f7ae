import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagSet, Flags } from '../../../src/cli/flags.js';
import { CONTAINER_FLAGS, RUN_ONLY_FLAGS, buildCreateBody, parsePorts, parseBytes, parseRestartPolicy, parseKeyValueFile } from '../../../src/cli/containeropts.js';

function body(argv: string[], files: Record<string, string> = {}, env: Record<string, string> = {}, detach = false) {
  const p = new FlagSet([...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS], { interspersed: false }).parse(argv);
  const flags = new Flags(p);
  return buildCreateBody({
    flags,
    image: p.args[0] as string,
    args: p.args.slice(1),
    detach: detach || flags.bool('detach'),
    readFile: (path) => {
      const c = files[path];
      if (c === undefined) throw new Error(`open ${path}: no such file or directory`);
      return c;
    },
    lookupEnv: (k) => env[k],
    resolvePath: (p2) => `/cwd/${p2.replace(/^\.\//, '')}`,
  });
}

test('a plain run attaches stdout and stderr and passes the command', () => {
  const b = body(['busybox', 'echo', 'hi']);
  assert.equal(b['Image'], 'busybox');
  assert.deepEqual(b['Cmd'], ['echo', 'hi']);
  assert.equal(b['AttachStdout'], true);
  assert.equal(b['AttachStderr'], true);
  assert.equal(b['AttachStdin'], false);
  assert.equal(b['OpenStdin'], false);
  assert.equal(b['Entrypoint'], null);
  assert.equal(b.HostConfig['NetworkMode'], 'default');
  assert.deepEqual(b.HostConfig['RestartPolicy'], { Name: 'no', MaximumRetryCount: 0 });
});

test('no command leaves Cmd null so the image default applies', () => {
  assert.equal(body(['busybox'])['Cmd'], null);
});

test('-d attaches nothing', () => {
  const b = body(['-d', 'busybox']);
  assert.equal(b['AttachStdout'], false);
  assert.equal(b['AttachStderr'], false);
});

test('-it opens, attaches and closes stdin once, with a TTY', () => {
  const b = body(['-it', 'busybox', 'sh']);
  assert.equal(b['Tty'], true);
  assert.equal(b['OpenStdin'], true);
  assert.equal(b['AttachStdin'], true);
  assert.equal(b['StdinOnce'], true);
});

test('-a stdout attaches only that stream', () => {
  const b = body(['-a', 'stdout', 'busybox']);
  assert.equal(b['AttachStdout'], true);
  assert.equal(b['AttachStderr'], false);
  assert.throws(() => body(['-a', 'bogus', 'busybox']), /valid streams are STDIN, STDOUT and STDERR/);
  assert.throws(() => body(['-d', '-a', 'stdout', 'busybox']), /conflicting options: cannot specify both --attach and --detach/);
});

test('env comes from --env-file first, then -e; bare names are looked up', () => {
  const b = body(['--env-file', 'f.env', '-e', 'A=1', '-e', 'HOME', '-e', 'UNSET', 'busybox'],
    { 'f.env': '# comment\n\nFROMFILE=x\n  SPACED=y\nLOOKED\n' }, { HOME: '/root', LOOKED: 'z' });
  assert.deepEqual(b['Env'], ['FROMFILE=x', 'SPACED=y', 'LOOKED=z', 'A=1', 'HOME=/root', 'UNSET']);
});

test('a missing env file is an --env-file error', () => {
  assert.throws(() => body(['--env-file', 'nope', 'busybox']), /^Error: --env-file: open nope: no such file or directory$/);
});

test('labels from -l and --label-file become a map', () => {
  const b = body(['-l', 'a=1', '-l', 'flag', '--label-file', 'l', 'busybox'], { l: 'b=2\n' });
  assert.deepEqual(b['Labels'], { b: '2', a: '1', flag: '' });
});

test('user, workdir, hostname, entrypoint, stop signal and timeout land in Config', () => {
  const b = body(['-u', '1001:1001', '-w', '/tmp', '-h', 'box', '--entrypoint', '/bin/sh', '--stop-signal', 'SIGINT', '--stop-timeout', '3', 'busybox']);
  assert.equal(b['User'], '1001:1001');
  assert.equal(b['WorkingDir'], '/tmp');
  assert.equal(b['Hostname'], 'box');
  assert.deepEqual(b['Entrypoint'], ['/bin/sh']);
  assert.equal(b['StopSignal'], 'SIGINT');
  assert.equal(b['StopTimeout'], 3);
  assert.equal('StopTimeout' in body(['busybox']), false);
});

test('--entrypoint= resets the entrypoint to [""]', () => {
  assert.deepEqual(body(['--entrypoint=', 'busybox'])['Entrypoint'], ['']);
});

test('--rm, --init, log driver and options go to HostConfig', () => {
  const b = body(['--rm', '--init', '--log-driver', 'json-file', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'busybox']);
  assert.equal(b.HostConfig['AutoRemove'], true);
  assert.equal(b.HostConfig['Init'], true);
  assert.deepEqual(b.HostConfig['LogConfig'], { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
  assert.equal('Init' in body(['busybox']).HostConfig, false);
});

test('--rm conflicts with a restart policy', () => {
  assert.throws(() => body(['--rm', '--restart', 'always', 'busybox']), /conflicting options: cannot specify both --restart and --rm/);
});

test('-p publishes and exposes ports', () => {
  const b = body(['-p', '8080:80', '-p', '127.0.0.1:53:53/udp', '-p', '9000', 'busybox']);
  assert.deepEqual(b['ExposedPorts'], { '80/tcp': {}, '53/udp': {}, '9000/tcp': {} });
  assert.deepEqual(b.HostConfig['PortBindings'], {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }],
    '9000/tcp': [{ HostIp: '', HostPort: '' }],
  });
});

test('port ranges expand one to one', () => {
  const p = parsePorts(['8000-8001:80-81']);
  assert.deepEqual(p.bindings, { '80/tcp': [{ HostIp: '', HostPort: '8000' }], '81/tcp': [{ HostIp: '', HostPort: '8001' }] });
});

test('-v binds go to Binds (relative sources made absolute), bare paths to Volumes', () => {
  const b = body(['-v', '/data:/data:ro', '-v', './src:/src', '-v', 'named:/n', '-v', '/anon', 'busybox']);
  assert.deepEqual(b.HostConfig['Binds'], ['/data:/data:ro', '/cwd/src:/src', 'named:/n']);
  assert.deepEqual(b['Volumes'], { '/anon': {} });
});

test('resource flags are converted like docker', () => {
  const b = body(['-m', '512m', '--cpus', '1.5', '--pids-limit', '100', '--memory-swap', '-1', 'busybox']);
  assert.equal(b.HostConfig['Memory'], 512 * 1024 * 1024);
  assert.equal(b.HostConfig['NanoCpus'], 1_500_000_000);
  assert.equal(b.HostConfig['PidsLimit'], 100);
  assert.equal(b.HostConfig['MemorySwap'], -1);
});

test('--network and aliases fill NetworkMode and the endpoint', () => {
  const b = body(['--network', 'app', '--network-alias', 'db', 'busybox']);
  assert.equal(b.HostConfig['NetworkMode'], 'app');
  assert.deepEqual(b.NetworkingConfig.EndpointsConfig, { app: { Aliases: ['db'] } });
});

test('health flags build a CMD-SHELL healthcheck in nanoseconds', () => {
  const b = body(['--health-cmd', 'true', '--health-interval', '5s', '--health-retries', '2', 'busybox']);
  assert.deepEqual(b['Healthcheck'], { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 2 });
  assert.deepEqual(body(['--no-healthcheck', 'busybox'])['Healthcheck'], { Test: ['NONE'] });
});

test('sizes and restart policies parse as docker', () => {
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('100'), 100);
  assert.equal(parseBytes('1.5MB'), 1.5 * 1024 * 1024);
  assert.throws(() => parseBytes('lots'));
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.throws(() => parseRestartPolicy('sometimes'), /invalid restart policy/);
});

test('env files reject names with spaces', () => {
  assert.throws(() => parseKeyValueFile('BAD NAME=1\n'), /variable 'BAD NAME' contains whitespaces/);
});

test('--security-opt seccomp=FILE is read and sent as compact JSON, as the docker CLI does', async () => {
  const { parseSecurityOpts } = await import('../../../src/cli/containeropts.js');
  const files: Record<string, string> = { '/p.json': '{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n', '/bad.json': 'nope' };
  const read = (p: string): string => {
    const v = files[p];
    if (v === undefined) throw new Error(`open ${p}: no such file or directory`);
    return v;
  };
  assert.deepEqual(parseSecurityOpts(['seccomp=/p.json', 'no-new-privileges', 'seccomp=unconfined', 'label=disable'], read),
    ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges', 'seccomp=unconfined', 'label=disable']);
  assert.throws(() => parseSecurityOpts(['seccomp=/bad.json'], read), /compacting json for seccomp profile \(\/bad.json\) failed/);
  assert.throws(() => parseSecurityOpts(['seccomp=/none.json'], read), /opening seccomp profile \(\/none.json\) failed/);
});
