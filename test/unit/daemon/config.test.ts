import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFlags, parseHost, resolveConfig } from '../../../src/daemon/config.js';

test('with no flags and no file hakod uses the documented defaults', () => {
  const { config, warnings } = resolveConfig(parseFlags([]), null, null);
  assert.deepEqual(config, {
    hosts: ['unix:///run/hako/hako.sock'],
    dataRoot: '/var/lib/hako',
    execRoot: '/run/hako',
    pidfile: '/run/hako/hakod.pid',
    logLevel: 'info',
    runtime: 'runc',
    runtimes: { runc: { path: 'runc', runtimeArgs: [] } },
    configFile: null,
    extra: {},
    liveRestore: false,
    shutdownTimeout: 15,
    usernsRemap: null,
    tls: { enabled: false, verify: false, caFile: '/etc/hako/ca.pem', certFile: '/etc/hako/cert.pem', keyFile: '/etc/hako/key.pem' },
  });
  assert.deepEqual(warnings, []);
});

test('TLS comes from --tls/--tlsverify/--tlscacert/--tlscert/--tlskey or daemon.json, and --tlsverify implies --tls', () => {
  const flags = resolveConfig(parseFlags(['--tlsverify', '--tlscacert', '/c/ca.pem', '--tlscert=/c/cert.pem', '--tlskey', '/c/key.pem']), null, null).config.tls;
  assert.deepEqual(flags, { enabled: true, verify: true, caFile: '/c/ca.pem', certFile: '/c/cert.pem', keyFile: '/c/key.pem' });
  assert.deepEqual(resolveConfig(parseFlags(['--tls']), null, null).config.tls.enabled, true);
  // A tcp host without a port gets 2375, or 2376 with TLS.
  assert.deepEqual(resolveConfig(parseFlags(['-H', 'tcp://0.0.0.0']), null, null).config.hosts, ['tcp://0.0.0.0:2375']);
  assert.deepEqual(resolveConfig(parseFlags(['-H', 'tcp://0.0.0.0/', '--tlsverify']), null, null).config.hosts, ['tcp://0.0.0.0:2376']);
  assert.deepEqual(resolveConfig(parseFlags(['-H', 'tcp://[::1]', '--tls']), null, null).config.hosts, ['tcp://[::1]:2376']);
  assert.deepEqual(resolveConfig(parseFlags(['--tls']), null, null).config.tls.verify, false);
  const file = resolveConfig(parseFlags([]), '{"tls": true, "tlsverify": true, "tlscacert": "/d/ca.pem", "tlscert": "/d/c.pem", "tlskey": "/d/k.pem"}', 'd.json').config.tls;
  assert.deepEqual(file, { enabled: true, verify: true, caFile: '/d/ca.pem', certFile: '/d/c.pem', keyFile: '/d/k.pem' });
  assert.throws(() => resolveConfig(parseFlags(['--tlsverify']), '{"tlsverify": true}', 'd.json'), /specified both as a flag and in the configuration file: tlsverify/);
  assert.throws(() => resolveConfig(parseFlags([]), '{"tlsverify": "yes"}', 'd.json'), /"tlsverify" in d.json must be true or false/);
  assert.throws(() => parseFlags(['--tls=maybe']), /invalid value "maybe" for flag --tls/);
  assert.throws(() => resolveConfig(parseFlags(['--tlscert', 'cert.pem']), null, null), /tlscert must be an absolute path/);
});

test('live-restore and shutdown-timeout come from a flag or daemon.json, and are checked', () => {
  assert.equal(resolveConfig(parseFlags(['--live-restore']), null, null).config.liveRestore, true);
  assert.equal(resolveConfig(parseFlags(['--live-restore=false']), null, null).config.liveRestore, false);
  const fromFile = resolveConfig(parseFlags([]), '{"live-restore": true, "shutdown-timeout": 30}', '/etc/hako/daemon.json').config;
  assert.equal(fromFile.liveRestore, true);
  assert.equal(fromFile.shutdownTimeout, 30);
  assert.throws(() => resolveConfig(parseFlags(['--live-restore']), '{"live-restore": true}', 'd.json'), /specified both as a flag and in the configuration file/);
  assert.throws(() => resolveConfig(parseFlags([]), '{"live-restore": "yes"}', 'd.json'), /"live-restore" in d.json must be true or false/);
  assert.throws(() => resolveConfig(parseFlags(['--shutdown-timeout', 'soon']), null, null), /invalid shutdown-timeout/);
});

test('userns-remap comes from a flag or daemon.json', () => {
  assert.equal(resolveConfig(parseFlags(['--userns-remap', 'default']), null, null).config.usernsRemap, 'default');
  assert.equal(resolveConfig(parseFlags([]), '{"userns-remap": "alice:staff"}', 'd.json').config.usernsRemap, 'alice:staff');
  assert.throws(() => resolveConfig(parseFlags([]), '{"userns-remap": 5}', 'd.json'), /"userns-remap" in d.json must be a non-empty string/);
  assert.throws(() => resolveConfig(parseFlags(['--userns-remap=default']), '{"userns-remap": "default"}', 'd.json'), /specified both as a flag and in the configuration file/);
});

test('flags accept both "--flag value" and "--flag=value", and -H repeats', () => {
  const flags = parseFlags(['-H', 'unix:///tmp/a.sock', '--host=tcp://127.0.0.1:2375', '--data-root=/srv/hako', '--exec-root', '/tmp/run', '--runtime', 'crun', '--log-level=debug', '--pidfile', '/tmp/h.pid']);
  const { config } = resolveConfig(flags, null, null);
  assert.deepEqual(config.hosts, ['unix:///tmp/a.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(config.dataRoot, '/srv/hako');
  assert.equal(config.execRoot, '/tmp/run');
  assert.equal(config.pidfile, '/tmp/h.pid');
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.runtime, 'crun');
  assert.deepEqual(config.runtimes.crun, { path: 'crun', runtimeArgs: [] });
});

test('the pid file follows the exec root unless given', () => {
  assert.equal(resolveConfig(parseFlags(['--exec-root', '/tmp/x/']), null, null).config.pidfile, '/tmp/x/hakod.pid');
});

test('bad flags are refused with a message naming them', () => {
  assert.throws(() => parseFlags(['--frobnicate']), { status: 400, message: /unknown flag: --frobnicate/ });
  assert.throws(() => parseFlags(['--data-root']), { message: /flag needs an argument: --data-root/ });
  assert.throws(() => parseFlags(['--log-level', 'loud']), { message: /invalid log level "loud"/ });
  assert.throws(() => resolveConfig(parseFlags(['--data-root', 'relative/dir']), null, null), { message: /data-root must be an absolute path/ });
  assert.throws(() => resolveConfig(parseFlags(['-H', 'http://x']), null, null), { message: /invalid host "http:\/\/x"/ });
});

test('--help and --version are recognised', () => {
  assert.equal(parseFlags(['--help']).help, true);
  assert.equal(parseFlags(['-v']).version, true);
});

test('the config file sets the same directives as the flags, and keeps unknown keys with a warning', () => {
  const file = JSON.stringify({
    hosts: ['unix:///tmp/f.sock'],
    'data-root': '/srv/d',
    'exec-root': '/srv/e',
    'log-level': 'warn',
    'default-runtime': 'fast',
    runtimes: { fast: { path: '/usr/local/bin/crun', runtimeArgs: ['--debug'] } },
    'log-driver': 'json-file',
    'registry-mirrors': ['http://127.0.0.1:5000'],
  });
  const { config, warnings } = resolveConfig(parseFlags([]), file, '/etc/hako/daemon.json');
  assert.deepEqual(config.hosts, ['unix:///tmp/f.sock']);
  assert.equal(config.dataRoot, '/srv/d');
  assert.equal(config.logLevel, 'warn');
  assert.equal(config.runtime, 'fast');
  assert.deepEqual(config.runtimes.fast, { path: '/usr/local/bin/crun', runtimeArgs: ['--debug'] });
  assert.deepEqual(config.extra, { 'log-driver': 'json-file', 'registry-mirrors': ['http://127.0.0.1:5000'] });
  // registry-mirrors is read by the registry wiring: only log-driver is unused.
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /"log-driver" in \/etc\/hako\/daemon\.json/);
});

test('"debug": true in the file turns on debug logging', () => {
  assert.equal(resolveConfig(parseFlags([]), '{"debug": true}', 'd.json').config.logLevel, 'debug');
});

test('a directive given as a flag and in the file is an error, as in dockerd', () => {
  assert.throws(
    () => resolveConfig(parseFlags(['--data-root', '/a']), '{"data-root": "/b"}', 'd.json'),
    { message: /specified both as a flag and in the configuration file: data-root: \(from flag: "\/a", from file: "\/b"\)/ },
  );
});

test('a malformed config file is refused with a clear error', () => {
  assert.throws(() => resolveConfig(parseFlags([]), '{"hosts": [', 'd.json'), { message: /configuration file d\.json is not valid JSON/ });
  assert.throws(() => resolveConfig(parseFlags([]), '[1,2]', 'd.json'), { message: /must hold a JSON object/ });
  assert.throws(() => resolveConfig(parseFlags([]), '{"hosts": "unix:///x"}', 'd.json'), { message: /"hosts" in d\.json must be a list of strings/ });
  assert.throws(() => resolveConfig(parseFlags([]), '{"log-level": "chatty"}', 'd.json'), { message: /invalid log level "chatty" in "log-level" in d\.json/ });
  assert.throws(() => resolveConfig(parseFlags([]), '{"runtimes": {"x": {}}}', 'd.json'), { message: /runtime "x" .* needs a "path"/ });
});

test('parseHost decodes unix and tcp addresses', () => {
  assert.deepEqual(parseHost('unix:///run/hako/hako.sock'), { kind: 'unix', path: '/run/hako/hako.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseHost('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375 });
  assert.throws(() => parseHost('unix://relative.sock'), /absolute path/);
  assert.throws(() => parseHost('tcp://127.0.0.1'), /tcp:\/\/HOST:PORT/);
});
