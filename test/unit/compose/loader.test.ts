import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderConfig } from '../../../src/compose/index.js';
import { composeFileTrees } from '../../support/compose-files.js';

const { tree, load, loadError } = composeFileTrees('myapp');

describe('which files', () => {
  test('compose.yaml in the working dir, with compose.override.yaml beside it merged over it', async () => {
    const dir = tree({
      'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: echo base\n',
      'compose.override.yaml': 'services:\n  web:\n    command: echo override\n',
    });
    const { project } = await load(dir);
    assert.deepEqual(project.configFiles, [path.join(dir, 'compose.yaml'), path.join(dir, 'compose.override.yaml')]);
    assert.deepEqual(project.services.web!.command, ['echo', 'override']);
    assert.equal(project.workingDir, dir);
  });

  test('a parent directory\'s docker-compose.yml is found from a sub-directory, and is the project dir', async () => {
    const dir = tree({ 'docker-compose.yml': 'services:\n  web:\n    image: busybox\n', 'src/deep/': '' });
    const { project } = await load(path.join(dir, 'src/deep'));
    assert.equal(project.workingDir, dir);
    assert.equal(project.name, 'myapp');
  });

  test('two default names: compose.yaml wins, with compose\'s warning', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n', 'docker-compose.yml': 'services:\n  b:\n    image: busybox\n' });
    const { project, warnings } = await load(dir);
    assert.deepEqual(Object.keys(project.services), ['a']);
    assert.match(warnings[0]!, /^Found multiple config files with supported names: .*compose\.yaml, .*docker-compose\.yml\nUsing .*compose\.yaml$/);
  });

  test('no file: compose\'s error', async () => {
    const dir = tree({ 'README': 'x' });
    assert.equal(await loadError(dir), 'no configuration file provided: not found');
  });

  test('-f files merge in order; -f - reads standard input; the project dir is the first file\'s', async () => {
    const dir = tree({ 'conf/base.yml': 'services:\n  web:\n    image: busybox\n    environment:\n      A: "1"\n      B: "2"\n' });
    const { project } = await load(dir, {
      files: ['conf/base.yml', '-'],
      stdin: async () => 'services:\n  web:\n    environment:\n      - B=3\n      - C\n',
      env: { C: 'from-host' },
    });
    assert.equal(project.workingDir, path.join(dir, 'conf'));
    assert.deepEqual(project.services.web!.environment, { A: '1', B: '3', C: 'from-host' });
    assert.equal(project.name, 'conf');
  });

  test('a missing -f file is an error naming it', async () => {
    const dir = tree({});
    assert.equal(await loadError(dir, { files: ['nope.yml'] }), `open ${path.join(dir, 'nope.yml')}: no such file or directory`);
  });

  test('COMPOSE_FILE lists the files when -f is not given', async () => {
    const dir = tree({ 'a.yml': 'services:\n  a:\n    image: busybox\n', 'b.yml': 'services:\n  b:\n    image: busybox\n' });
    const { project } = await load(dir, { env: { COMPOSE_FILE: 'a.yml:b.yml' } });
    assert.deepEqual(Object.keys(project.services), ['a', 'b']);
  });
});

describe('project name', () => {
  const file = { 'compose.yaml': 'services:\n  web:\n    image: busybox\n' };
  test('the directory name, normalized as compose-go does', async () => {
    const dir = tree(file, '_My App.v2');
    assert.equal((await load(dir)).project.name, 'myappv2');
  });
  test('-p over COMPOSE_PROJECT_NAME over name: over the directory', async () => {
    const dir = tree({ 'compose.yaml': 'name: fromfile\nservices:\n  web:\n    image: busybox\n' });
    assert.equal((await load(dir)).project.name, 'fromfile');
    assert.equal((await load(dir, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).project.name, 'fromenv');
    assert.equal((await load(dir, { projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).project.name, 'flag');
  });
  test('an invalid -p is compose\'s error', async () => {
    const dir = tree(file);
    assert.equal(
      await loadError(dir, { projectName: 'My_App' }),
      'invalid project name "My_App": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number',
    );
  });
  test('--project-directory moves the working dir and the name', async () => {
    const dir = tree({ ...file, 'other/': '' });
    const { project } = await load(dir, { projectDirectory: 'other', files: ['compose.yaml'] });
    assert.equal(project.workingDir, path.join(dir, 'other'));
    assert.equal(project.name, 'other');
  });
});

describe('interpolation and .env', () => {
  test('every form of substitution', async () => {
    const dir = tree({
      '.env': 'SET=v\nEMPTY=\n',
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    labels:',
        '      plain: "$SET ${SET}"',
        '      colon-default: "${EMPTY:-d1} ${UNSET:-d2}"',
        '      dash-default: "[${EMPTY-d1}] ${UNSET-d2}"',
        '      plus: "${SET:+r1} [${EMPTY:+r2}] [${EMPTY+r3}] [${UNSET+r4}]"',
        '      nested: "${UNSET:-${ALSO_UNSET:-${SET}}}"',
        '      dollar: "$$SET $${SET}"',
        '      required: "${SET:?must be set}"',
      ].join('\n'),
    });
    const { project, warnings } = await load(dir);
    assert.deepEqual(project.services.web!.labels, {
      plain: 'v v',
      'colon-default': 'd1 d2',
      'dash-default': '[] d2',
      plus: 'r1 [] [r3] []',
      nested: 'v',
      dollar: '$SET ${SET}',
      required: 'v',
    });
    assert.deepEqual(warnings, []);
  });

  test('an unset variable becomes "" with compose\'s warning, once', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  web:\n    image: "busybox${TAG}"\n    environment:\n      - X=${TAG}\n' });
    const { project, warnings } = await load(dir);
    assert.equal(project.services.web!.image, 'busybox');
    assert.deepEqual(warnings, ['The "TAG" variable is not set. Defaulting to a blank string.']);
  });

  test('${VAR:?msg} unset fails naming the file and the key', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  web:\n    image: "${IMAGE:?set IMAGE first}"\n' });
    assert.equal(
      await loadError(dir),
      `${path.join(dir, 'compose.yaml')}: error while interpolating services.web.image: required variable IMAGE is missing a value: set IMAGE first`,
    );
  });

  test('a lone $ is an invalid interpolation format', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: echo $ 1\n' });
    assert.equal(
      await loadError(dir),
      `${path.join(dir, 'compose.yaml')}: invalid interpolation format for services.web.command.\nYou may need to escape any $ with another $.\necho $ 1`,
    );
  });

  test('the process environment wins over .env; --env-file replaces .env', async () => {
    const dir = tree({
      '.env': 'TAG=fromdotenv\nOTHER=o\n',
      'prod.env': 'TAG=fromprod\n',
      'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG}"\n',
    });
    assert.equal((await load(dir)).project.services.web!.image, 'busybox:fromdotenv');
    assert.equal((await load(dir, { env: { TAG: 'fromhost' } })).project.services.web!.image, 'busybox:fromhost');
    assert.equal((await load(dir, { envFiles: ['prod.env'] })).project.services.web!.image, 'busybox:fromprod');
    assert.equal((await load(dir)).project.environment.OTHER, 'o');
  });

  test('.env syntax: export, comments, quotes, escapes, multi-line, interpolation, inherited keys', async () => {
    const dotenv = [
      '# a comment',
      'export EXPORTED=yes',
      'PLAIN=some value # trailing comment',
      'HASH=a#b',
      "SINGLE='literal ${PLAIN} \\n'",
      'DOUBLE="tab\\there\\nnewline \\"q\\" ${PLAIN}"',
      'MULTI="line1',
      'line2"',
      'REF=${PLAIN}-x',
      'COLON: yaml-like',
      'INHERITED',
      '',
    ].join('\n');
    const dir = tree({
      'vars.env': dotenv,
      'compose.yaml': 'services:\n  web:\n    image: busybox\n    env_file: vars.env\n',
    });
    const { project } = await load(dir, { env: { INHERITED: 'from-host' } });
    assert.deepEqual(project.services.web!.environment, {
      EXPORTED: 'yes',
      PLAIN: 'some value',
      HASH: 'a#b',
      SINGLE: 'literal ${PLAIN} \\n',
      DOUBLE: 'tab\there\nnewline "q" some value',
      MULTI: 'line1\nline2',
      REF: 'some value-x',
      COLON: 'yaml-like',
      INHERITED: 'from-host',
    });
  });
});

describe('env_file and environment', () => {
  test('env_file list and long syntax in order, then environment over them; KEY alone from the environment', async () => {
    const dir = tree({
      'a.env': 'A=1\nB=1\n',
      'b.env': 'B=2\nRAW="${A}"\n',
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    env_file:',
        '      - a.env',
        '      - path: b.env',
        '        format: raw',
        '      - path: missing.env',
        '        required: false',
        '    environment:',
        '      C: 3',
        '      FROM_HOST:',
        '      NOT_SET:',
      ].join('\n'),
    });
    const { project } = await load(dir, { env: { FROM_HOST: 'h' } });
    assert.deepEqual(project.services.web!.environment, { A: '1', B: '2', RAW: '"${A}"', C: '3', FROM_HOST: 'h', NOT_SET: null });
  });

  test('a required env_file that is missing is an error naming it', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    env_file: .env.production\n' });
    assert.match(await loadError(dir), /env file .*\.env\.production not found/);
  });
});

describe('validation', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an unknown service key', 'services:\n  web:\n    image: busybox\n    foo: 1\n', /^validating .*compose\.yaml: services\.web Additional property foo is not allowed$/],
    ['an unknown top-level key', 'servicez:\n  web:\n    image: busybox\n', /^validating .*compose\.yaml: \(root\) Additional property servicez is not allowed$/],
    ['a wrong type', 'services:\n  web:\n    image: busybox\n    privileged: [1]\n', /^validating .*: services\.web\.privileged must be a boolean or a string$/],
    ['a bad enum', 'services:\n  web:\n    image: busybox\n    depends_on:\n      db:\n        condition: ready\n  db:\n    image: busybox\n', /services\.web\.depends_on\.db\.condition must be one of the following: "service_started"/],
    ['a bad port string', 'services:\n  web:\n    image: busybox\n    ports:\n      - "80:abc"\n', /compose\.yaml: services\.web\.ports\.0: invalid containerPort: abc$/],
    ['a relative container path', 'services:\n  web:\n    image: busybox\n    volumes:\n      - ./data:data\n', /compose\.yaml: services\.web\.volumes\.0: invalid spec: \.\/data:data: container path "data" must be absolute$/],
    ['an unsupported attribute', 'services:\n  web:\n    image: busybox\n    develop:\n      watch: []\n', /compose\.yaml: services\.web\.develop: hako does not support the attribute "develop" yet$/],
    ['an unsupported deploy attribute', 'services:\n  web:\n    image: busybox\n    deploy:\n      placement:\n        constraints: []\n', /services\.web\.deploy\.placement: hako does not support the attribute "deploy\.placement" yet$/],
    ['a service without image or build', 'services:\n  web:\n    command: x\n', /service "web" has neither an image nor a build context specified: invalid compose project$/],
    ['an undefined network', 'services:\n  web:\n    image: busybox\n    networks: [back]\n', /^service "web" refers to undefined network back: invalid compose project$/],
    ['an undefined volume', 'services:\n  web:\n    image: busybox\n    volumes: ["data:/data"]\n', /^service "web" refers to undefined volume data: invalid compose project$/],
    ['an undefined dependency', 'services:\n  web:\n    image: busybox\n    depends_on: [db]\n', /^service "web" depends on undefined service "db": invalid compose project$/],
    ['a bad restart policy', 'services:\n  web:\n    image: busybox\n    restart: sometimes\n', /services\.web\.restart: invalid restart policy "sometimes"/],
    ['a duplicate key', 'services:\n  web:\n    image: busybox\nservices:\n  db:\n    image: busybox\n', /^yaml: .*compose\.yaml: line 4: mapping key "services" already defined at line 1$/],
    ['a bad size', 'services:\n  web:\n    image: busybox\n    mem_limit: lots\n', /services\.web\.mem_limit: invalid size "lots"/],
    ['mem_limit and deploy limits that differ', 'services:\n  web:\n    image: busybox\n    mem_limit: 1g\n    deploy:\n      resources:\n        limits:\n          memory: 2g\n', /^services\.web: can't set distinct values on 'mem_limit' and 'deploy\.resources\.limits\.memory': invalid compose project$/],
    ['scale and deploy.replicas that differ', 'services:\n  web:\n    image: busybox\n    scale: 2\n    deploy:\n      replicas: 3\n', /^services\.web: can't set distinct values on 'scale' and 'deploy\.replicas': invalid compose project$/],
    ['container_name with several replicas', 'services:\n  web:\n    image: busybox\n    container_name: web1\n    scale: 2\n', /^services\.web: can't set container_name and scale as container name must be unique: invalid compose project$/],
    ['two mounts on one target', 'services:\n  web:\n    image: busybox\n    tmpfs: /data\n    volumes: ["./d:/data"]\n', /^services\.web\.volumes\[0\]: target \/data already mounted as services\.web\.tmpfs\[0\]$/],
    ['a dependency cycle', 'services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n', /^dependency cycle detected: a -> b -> a$/],
    ['network_mode of an unknown service', 'services:\n  a:\n    image: busybox\n    network_mode: service:b\n', /^service "b" not found for network_mode 'service:b'$/],
    ['an extra host without IP', 'services:\n  a:\n    image: busybox\n    extra_hosts: [somehost]\n', /services\.a\.extra_hosts\.0: invalid additional host, missing IP: somehost$/],
    ['a bad duration', 'services:\n  web:\n    image: busybox\n    stop_grace_period: soon\n', /services\.web\.stop_grace_period: invalid duration "soon"/],
    ['an anchor that contains its own alias', 'services:\n  web: &w\n    image: busybox\n    labels: *w\n', /^yaml: .*compose\.yaml: anchor 'w' value contains itself$/],
    ['a number too large', 'services:\n  web:\n    image: busybox\n    cpus: 1e400\n', /services\.web\.cpus: invalid number Infinity$/],
  ];
  for (const [what, yaml, re] of cases) {
    test(`${what} fails with a message naming it`, async () => {
      const dir = tree({ 'compose.yaml': yaml });
      assert.match(await loadError(dir), re);
    });
  }

  test('a file that is not UTF-8 fails with a message naming it', async () => {
    const dir = tree({ 'compose.yaml': '' });
    writeFileSync(path.join(dir, 'compose.yaml'), Buffer.from('services:\n  web:\n    image: \xff\xfebusybox\n', 'latin1'));
    assert.match(await loadError(dir), /^yaml: .*compose\.yaml: invalid UTF-8 sequence$/);
  });

  test('version: is obsolete: compose\'s warning', async () => {
    const dir = tree({ 'compose.yaml': 'version: "3.8"\nservices:\n  web:\n    image: busybox\n' });
    const { warnings } = await load(dir);
    assert.deepEqual(warnings, [`${path.join(dir, 'compose.yaml')}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`]);
  });
});

describe('normalization', () => {
  test('ports: short forms, ranges, host ip, protocol, long syntax', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    ports:',
        '      - 80',
        '      - "8080:80"',
        '      - "127.0.0.1::81"',
        '      - "127.0.0.1:9000:90/udp"',
        '      - "3000-3001:4000-4001"',
        '      - "[::1]:5353:53/udp"',
        '      - target: 443',
        '        published: "8443"',
        '        host_ip: 0.0.0.0',
      ].join('\n'),
    });
    const { project } = await load(dir);
    assert.deepEqual(project.services.web!.ports, [
      { target: 80, published: null, hostIp: null, protocol: 'tcp' },
      { target: 80, published: '8080', hostIp: null, protocol: 'tcp' },
      { target: 81, published: null, hostIp: '127.0.0.1', protocol: 'tcp' },
      { target: 90, published: '9000', hostIp: '127.0.0.1', protocol: 'udp' },
      { target: 4000, published: '3000', hostIp: null, protocol: 'tcp' },
      { target: 4001, published: '3001', hostIp: null, protocol: 'tcp' },
      { target: 53, published: '5353', hostIp: '::1', protocol: 'udp' },
      { target: 443, published: '8443', hostIp: '0.0.0.0', protocol: 'tcp' },
    ]);
  });

  test('volumes: relative and ~ binds made absolute, named, anonymous, :ro, long syntax', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    volumes:',
        '      - ./app.py:/app/app.py',
        '      - ~/.cache:/cache:ro',
        '      - data:/data',
        '      - /anon',
        '      - type: bind',
        '        source: ../shared',
        '        target: /shared',
        '        read_only: true',
        '      - type: tmpfs',
        '        target: /run/x',
        '        tmpfs:',
        '          size: 64m',
        'volumes:',
        '  data:',
      ].join('\n'),
    });
    const { project } = await load(dir);
    const base = { source: null, readOnly: false, createHostPath: false, bindPropagation: null, volumeNocopy: false, tmpfsSize: null };
    assert.deepEqual(project.services.web!.volumes, [
      { ...base, type: 'bind', source: path.join(dir, 'app.py'), target: '/app/app.py', createHostPath: true },
      { ...base, type: 'bind', source: '/home/u/.cache', target: '/cache', readOnly: true, createHostPath: true },
      { ...base, type: 'volume', source: 'data', target: '/data' },
      { ...base, type: 'volume', source: null, target: '/anon' },
      { ...base, type: 'bind', source: path.join(path.dirname(dir), 'shared'), target: '/shared', readOnly: true },
      { ...base, type: 'tmpfs', target: '/run/x', tmpfsSize: 64 * 1024 * 1024 },
    ]);
    assert.deepEqual(project.volumes.data, { name: 'myapp_data', driver: 'local', driverOpts: {}, external: false, labels: {} });
  });

  test('environment and labels as lists or maps; command split as compose does; depends_on both syntaxes', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    environment: [A=1, "B=x=y", C]',
        '    labels: [com.example=1]',
        `    command: sh -c 'echo "hi there"' arg\\ two`,
        '    entrypoint: ["/bin/sh", "-c"]',
        '    depends_on: [db]',
        '  db:',
        '    image: busybox',
        '    labels:',
        '      a: 1',
        '    depends_on:',
        '      cache:',
        '        condition: service_healthy',
        '        restart: true',
        '  cache:',
        '    image: busybox',
      ].join('\n'),
    });
    const { project } = await load(dir);
    const web = project.services.web!;
    assert.deepEqual(web.environment, { A: '1', B: 'x=y', C: null });
    assert.deepEqual(web.labels, { 'com.example': '1' });
    assert.deepEqual(web.command, ['sh', '-c', 'echo "hi there"', 'arg two']);
    assert.deepEqual(web.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(web.dependsOn, { db: { condition: 'service_started', required: true, restart: false } });
    assert.deepEqual(project.services.db!.labels, { a: '1' });
    assert.deepEqual(project.services.db!.dependsOn, { cache: { condition: 'service_healthy', required: true, restart: true } });
  });

  test('networks: the implicit default, lists, maps with aliases, network_mode', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  a:',
        '    image: busybox',
        '  b:',
        '    image: busybox',
        '    networks:',
        '      back:',
        '        aliases: [bee]',
        '        ipv4_address: 172.30.0.5',
        '  c:',
        '    image: busybox',
        '    network_mode: service:a',
        'networks:',
        '  back:',
        '    internal: true',
        '  ext:',
        '    external: true',
        '    name: shared-net',
      ].join('\n'),
    });
    const { project } = await load(dir);
    assert.deepEqual(Object.keys(project.services.a!.networks), ['default']);
    assert.deepEqual(project.services.b!.networks.back, { aliases: ['bee'], ipv4Address: '172.30.0.5', ipv6Address: null, macAddress: null, priority: 0 });
    assert.deepEqual(project.services.c!.networks, {});
    assert.equal(project.services.c!.networkMode, 'service:a');
    assert.deepEqual(project.services.c!.dependsOn, { a: { condition: 'service_started', required: true, restart: false } });
    assert.equal(project.networks.default!.name, 'myapp_default');
    assert.equal(project.networks.back!.name, 'myapp_back');
    assert.equal(project.networks.back!.internal, true);
    assert.equal(project.networks.ext!.name, 'shared-net');
    assert.equal(project.networks.ext!.external, true);
  });

  test('healthcheck, durations, sizes, limits, scale, build and the default image name', async () => {
    const dir = tree({
      'ctx/': '',
      'compose.yaml': [
        'services:',
        '  web:',
        '    build:',
        '      context: ctx',
        '      dockerfile: web.Dockerfile',
        '      args: [V=1, FROM_ENV, NOT_SET]',
        '    healthcheck:',
        '      test: wget -q localhost',
        '      interval: 1m30s',
        '      timeout: 500ms',
        '      retries: 3',
        '    stop_grace_period: 1m',
        '    mem_limit: 1g',
        '    shm_size: 1g',
        '    deploy:',
        '      replicas: 2',
        '      resources:',
        '        limits:',
        '          cpus: "0.5"',
        '          memory: 1G',
        '          pids: 100',
        '  off:',
        '    build: .',
        '    healthcheck:',
        '      disable: true',
      ].join('\n'),
    });
    const { project } = await load(dir, { env: { FROM_ENV: 'e' } });
    const web = project.services.web!;
    assert.equal(web.image, 'myapp-web');
    assert.deepEqual(web.build && { context: web.build.context, dockerfile: web.build.dockerfile, args: web.build.args }, {
      context: path.join(dir, 'ctx'),
      dockerfile: 'web.Dockerfile',
      args: { V: '1', FROM_ENV: 'e', NOT_SET: null },
    });
    assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'wget -q localhost'], interval: 90e9, timeout: 500e6, startPeriod: null, startInterval: null, retries: 3, disable: false });
    assert.equal(web.stopGracePeriod, 60);
    assert.equal(web.memLimit, 1024 ** 3, 'mem_limit and deploy.resources.limits.memory agree');
    assert.equal(web.shmSize, 1024 ** 3);
    assert.equal(web.cpus, 0.5);
    assert.equal(web.pidsLimit, 100);
    assert.equal(web.scale, 2);
    assert.equal(project.services.off!.image, 'myapp-off');
    assert.equal(project.services.off!.build!.context, dir);
    assert.deepEqual(project.services.off!.healthcheck!.test, ['NONE']);
  });
});

describe('secrets', () => {
  test('a file secret is a read-only bind mount at /run/secrets/<target>, as docker compose runs it', async () => {
    const dir = tree({
      'secrets/db.txt': 's3cret',
      'compose.yaml': [
        'services:',
        '  api:',
        '    image: busybox',
        '    secrets:',
        '      - db_password',
        '      - source: db_password',
        '        target: /etc/db.pw',
        'secrets:',
        '  db_password:',
        '    file: ./secrets/db.txt',
      ].join('\n'),
    });
    const { project } = await load(dir);
    assert.deepEqual(
      project.services.api!.volumes.map((m) => [m.type, m.source, m.target, m.readOnly, m.createHostPath]),
      [
        ['bind', path.join(dir, 'secrets/db.txt'), '/run/secrets/db_password', true, false],
        ['bind', path.join(dir, 'secrets/db.txt'), '/etc/db.pw', true, false],
      ],
    );
  });

  test('a file config is a read-only bind mount at /<target>', async () => {
    const dir = tree({
      'nginx.conf': 'events {}',
      'compose.yaml': 'services:\n  web:\n    image: busybox\n    configs:\n      - source: nginx\n        target: /etc/nginx/nginx.conf\n      - nginx\nconfigs:\n  nginx:\n    file: ./nginx.conf\n',
    });
    const { project } = await load(dir);
    assert.deepEqual(project.services.web!.volumes.map((m) => [m.source, m.target, m.readOnly]), [
      [path.join(dir, 'nginx.conf'), '/etc/nginx/nginx.conf', true],
      [path.join(dir, 'nginx.conf'), '/nginx', true],
    ]);
  });

  test('external secrets, and undefined ones, are refused by name (environment ones: test/unit/compose/gaps.test.ts)', async () => {
    const file = (def: string) => tree({ 'compose.yaml': `services:\n  api:\n    image: busybox\n    secrets: [s]\nsecrets:\n  s:\n    ${def}\n` });
    assert.equal(await loadError(file('external: true')), 'services.api.secrets.0: unsupported external secret s');
    const dir = tree({ 'compose.yaml': 'services:\n  api:\n    image: busybox\n    secrets: [nope]\n' });
    assert.equal(await loadError(dir), 'service "api" refers to undefined secret nope: invalid compose project');
  });
});

describe('extends and merging', () => {
  test('extends in the same file and from another file, whose relative paths stay relative to it', async () => {
    const dir = tree({
      'common/base.yml': 'services:\n  base:\n    image: busybox\n    env_file: base.env\n    volumes: ["./data:/data"]\n    environment:\n      FROM: base\n',
      'common/base.env': 'BASE_ENV=1\n',
      'compose.yaml': [
        'services:',
        '  tmpl:',
        '    image: busybox',
        '    labels: {tier: t}',
        '  one:',
        '    extends: tmpl',
        '    command: echo one',
        '  two:',
        '    extends:',
        '      file: common/base.yml',
        '      service: base',
        '    environment:',
        '      OWN: "2"',
      ].join('\n'),
    });
    const { project } = await load(dir);
    assert.deepEqual(project.services.one!.labels, { tier: 't' });
    assert.equal(project.services.one!.image, 'busybox');
    const two = project.services.two!;
    assert.deepEqual(two.environment, { BASE_ENV: '1', FROM: 'base', OWN: '2' });
    assert.equal(two.volumes[0]!.source, path.join(dir, 'common/data'));
  });

  test('extending a service that does not exist is compose\'s error', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n    extends: nope\n' });
    assert.equal(await loadError(dir), `cannot extend service "a" in ${path.join(dir, 'compose.yaml')}: service "nope" not found`);
  });

  test('a circular extends is an error', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n    extends: b\n  b:\n    image: busybox\n    extends: a\n' });
    assert.match(await loadError(dir), /circular reference/);
  });

  test('merging files: mappings merge, ports unique-merge, volumes merge by target, command is replaced', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    command: [echo, base]',
        '    ports: ["80:80"]',
        '    volumes: ["./a:/data", "./logs:/logs"]',
        '    environment: [A=1, B=1]',
        '    labels: {x: "1"}',
      ].join('\n'),
      'compose.override.yaml': [
        'services:',
        '  web:',
        '    command: echo override',
        '    ports: ["80:80", "443:443"]',
        '    volumes: ["./b:/data:ro"]',
        '    environment: {B: "2"}',
        '    labels: [y=2]',
      ].join('\n'),
    });
    const { project } = await load(dir);
    const web = project.services.web!;
    assert.deepEqual(web.command, ['echo', 'override']);
    assert.deepEqual(web.ports.map((p) => p.published), ['80', '443']);
    assert.deepEqual(web.volumes.map((v) => [v.source, v.target, v.readOnly]), [
      [path.join(dir, 'b'), '/data', true],
      [path.join(dir, 'logs'), '/logs', false],
    ]);
    assert.deepEqual(web.environment, { A: '1', B: '2' });
    assert.deepEqual(web.labels, { x: '1', y: '2' });
  });
});

describe('!reset and !override', () => {
  test('an override file removes attributes with !reset and replaces them with !override', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: busybox',
        '    ports: ["80:80", "443:443"]',
        '    environment: {A: "1", B: "1"}',
        '    labels: {x: "1"}',
        '    build:',
        '      context: .',
        '      args: {V: "1"}',
        '  gone:',
        '    image: busybox',
      ].join('\n'),
      'compose.override.yaml': [
        'services:',
        '  web:',
        '    ports: !override ["8080:80"]',
        '    environment: !override',
        '      C: "3"',
        '    labels: !reset {}',
        '    build:',
        '      args: !reset null',
        '  gone: !reset',
      ].join('\n'),
    });
    const { project } = await load(dir);
    const web = project.services.web!;
    assert.deepEqual(web.ports.map((p) => `${p.published}:${p.target}`), ['8080:80']);
    assert.deepEqual(web.environment, { C: '3' });
    assert.deepEqual(web.labels, {});
    assert.deepEqual(web.build!.args, {});
    assert.deepEqual(Object.keys(project.services), ['web']);
  });
});

describe('profiles', () => {
  const yaml = [
    'services:',
    '  web:',
    '    image: busybox',
    '  debug:',
    '    image: busybox',
    '    profiles: [dev]',
    '    depends_on: [helper]',
    '  helper:',
    '    image: busybox',
    '    profiles: [tools]',
  ].join('\n');

  test('services of inactive profiles are left out, into disabledServices', async () => {
    const dir = tree({ 'compose.yaml': yaml });
    const { project } = await load(dir);
    assert.deepEqual(Object.keys(project.services), ['web']);
    assert.deepEqual(Object.keys(project.disabledServices), ['debug', 'helper']);
  });

  test('--profile / COMPOSE_PROFILES activate them; a dependency left disabled is compose\'s error', async () => {
    const dir = tree({ 'compose.yaml': yaml });
    assert.match(await loadError(dir, { profiles: ['dev'] }), /service "helper" was pulled in as a dependency of service "debug" but is not enabled by the active profiles/);
    assert.deepEqual(Object.keys((await load(dir, { env: { COMPOSE_PROFILES: 'dev,tools' } })).project.services), ['debug', 'helper', 'web']);
  });

  test('a service named on the command line is enabled with its dependencies', async () => {
    const dir = tree({ 'compose.yaml': yaml });
    assert.deepEqual(Object.keys((await load(dir, { services: ['debug'] })).project.services), ['debug', 'helper', 'web']);
  });
});

describe('renderConfig', () => {
  test('prints the canonical YAML docker compose config prints for the notes\' web + redis file', async () => {
    const dir = tree(
      {
        'app.py': '',
        'docker-compose.yml': [
          "version: '3.8'",
          'services:',
          '  web:',
          '    build: .',
          '    ports:',
          '      - "8000:8000"',
          '    environment:',
          '      - REDIS_HOST=redis',
          '    depends_on:',
          '      - redis',
          '    volumes:',
          '      - ./app.py:/app/app.py',
          '  redis:',
          '    image: redis:7-alpine',
          '    ports:',
          '      - "6379:6379"',
        ].join('\n'),
      },
      'docker-compose-demo',
    );
    const { project } = await load(dir);
    assert.equal(
      renderConfig(project),
      [
        'name: docker-compose-demo',
        'services:',
        '  redis:',
        '    image: redis:7-alpine',
        '    networks:',
        '      default: null',
        '    ports:',
        '      - mode: ingress',
        '        target: 6379',
        '        published: "6379"',
        '        protocol: tcp',
        '  web:',
        '    build:',
        `      context: ${dir}`,
        '      dockerfile: Dockerfile',
        '    depends_on:',
        '      redis:',
        '        condition: service_started',
        '        required: true',
        '    environment:',
        '      REDIS_HOST: redis',
        '    networks:',
        '      default: null',
        '    ports:',
        '      - mode: ingress',
        '        target: 8000',
        '        published: "8000"',
        '        protocol: tcp',
        '    volumes:',
        '      - type: bind',
        `        source: ${dir}/app.py`,
        '        target: /app/app.py',
        '        bind:',
        '          create_host_path: true',
        'networks:',
        '  default:',
        '    name: docker-compose-demo_default',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(renderConfig(project, 'json'));
    assert.equal(json.name, 'docker-compose-demo');
    assert.deepEqual(Object.keys(json), ['name', 'networks', 'services'], 'a Go map: keys sorted');
    assert.equal(json.services.web.ports[0].published, '8000');
  });

  test('named volumes, healthcheck durations and sizes print as compose does', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  db:',
        '    image: postgres',
        '    volumes: [pgdata:/var/lib/postgresql/data]',
        '    mem_limit: 512M',
        '    extra_hosts:',
        '      gateway: 10.0.0.1',
        '      db: "::1"',
        '    healthcheck:',
        '      test: ["CMD", "pg_isready"]',
        '      interval: 10s',
        '      start_period: 1m30s',
        'volumes:',
        '  pgdata:',
      ].join('\n'),
    });
    const out = renderConfig((await load(dir)).project);
    assert.match(out, /    healthcheck:\n      test:\n        - CMD\n        - pg_isready\n      interval: 10s\n      start_period: 1m30s\n/);
    assert.match(out, /    mem_limit: "536870912"\n/);
    assert.match(out, /    extra_hosts:\n      - db=::1\n      - gateway=10\.0\.0\.1\n/);
    assert.match(out, /      - type: volume\n        source: pgdata\n        target: \/var\/lib\/postgresql\/data\n        volume: \{\}\n/);
    assert.match(out, /volumes:\n  pgdata:\n    name: myapp_pgdata\n$/);
  });
});
