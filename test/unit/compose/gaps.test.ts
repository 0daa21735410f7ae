import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { oneOffService } from '../../../src/compose/index.js';
import { fileTar } from '../../../src/compose/inject.js';
import { composeFileTrees } from '../../support/compose-files.js';

const { tree, load, loadError } = composeFileTrees('app');

describe('include', () => {
  test('an included file\'s services, networks and volumes join the project, its paths and .env its own', async () => {
    const dir = tree({
      'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n',
      'db/compose.yaml': 'name: ignored\nservices:\n  db:\n    image: busybox:${DB_TAG}\n    volumes: [./data:/data, dbdata:/var/lib/db]\n    networks: [back]\n    env_file: ./db.env\nvolumes:\n  dbdata: {}\nnetworks:\n  back: {}\n',
      'db/.env': 'DB_TAG=1.36\n',
      'db/db.env': 'X=1\n',
    });
    const { project } = await load(dir);
    assert.equal(project.name, 'app');
    assert.deepEqual(Object.keys(project.services), ['db', 'web']);
    const db = project.services.db!;
    assert.equal(db.image, 'busybox:1.36');
    assert.equal(db.volumes[0]!.source, path.join(dir, 'db/data'));
    assert.equal(db.environment.X, '1');
    assert.equal(project.volumes.dbdata!.name, 'app_dbdata');
    assert.equal(project.networks.back!.name, 'app_back');
  });

  test('the long syntax: several paths merged, project_directory and env_file relative to the including project; its environment wins', async () => {
    const dir = tree({
      'compose.yaml': 'include:\n  - path: [lib/a.yaml, lib/a.override.yaml]\n    project_directory: shared\n    env_file: ./inc.env\nservices: {}\n',
      'lib/a.yaml': 'services:\n  a:\n    image: busybox\n    build: ./ctx\n    environment:\n      WHO: ${WHO}\n      TAG: ${TAG}\n',
      'lib/a.override.yaml': 'services:\n  a:\n    command: ["true"]\n',
      'inc.env': 'WHO=env_file\nTAG=from-file\n',
      'shared/ctx/Dockerfile': 'FROM busybox\n',
    });
    const { project } = await load(dir, { env: { HOME: '/home/u', TAG: 'from-host' } });
    const a = project.services.a!;
    assert.deepEqual(a.command, ['true']);
    assert.equal(a.build!.context, path.join(dir, 'shared/ctx'));
    assert.deepEqual(a.environment, { WHO: 'env_file', TAG: 'from-host' });
  });

  test('a resource defined differently on both sides is compose\'s conflict; the same definition is fine', async () => {
    const inc = 'services:\n  web:\n    image: busybox\nvolumes:\n  v: {}\n';
    const conflict = tree({ 'compose.yaml': 'include: [inc.yaml]\nservices:\n  web:\n    image: nginx\n', 'inc.yaml': inc });
    assert.equal(await loadError(conflict), 'services.web conflicts with imported resource');
    const vol = tree({ 'compose.yaml': 'include: [inc.yaml]\nservices: {}\nvolumes:\n  v:\n    name: other\n', 'inc.yaml': inc });
    assert.equal(await loadError(vol), 'volumes.v conflicts with imported resource');
    const same = tree({ 'compose.yaml': 'include: [inc.yaml]\nservices:\n  web:\n    image: busybox\n', 'inc.yaml': inc });
    assert.deepEqual(Object.keys((await load(same)).project.services), ['web']);
  });

  test('an include cycle is refused naming the chain; a missing file names it', async () => {
    const dir = tree({ 'compose.yaml': 'include: [a.yaml]\nservices: {}\n', 'a.yaml': 'include: [compose.yaml]\nservices: {}\n' });
    assert.equal(await loadError(dir), `include cycle detected:\n${path.join(dir, 'compose.yaml')}\n include ${path.join(dir, 'a.yaml')}\n include ${path.join(dir, 'compose.yaml')}`);
    const missing = tree({ 'compose.yaml': 'include: [nope.yaml]\nservices: {}\n' });
    assert.equal(await loadError(missing), `open ${path.join(missing, 'nope.yaml')}: no such file or directory`);
  });
});

describe('secrets and configs from environment and content', () => {
  test('become injected files with their target, mode (a plain 0600 is octal, as compose-go reads it), uid and gid; content is interpolated', async () => {
    const dir = tree({
      'compose.yaml': [
        'services:',
        '  api:',
        '    image: busybox',
        '    secrets: [jwt, {source: jwt, target: /etc/jwt, mode: "0440", uid: "1000", gid: "10"}]',
        '    configs: [{source: conf, target: app.ini, mode: 0600}, {source: conf, target: b.ini, mode: 0o640}, {source: conf, target: c.ini, mode: 420}]',
        'secrets:',
        '  jwt:',
        '    environment: JWT',
        'configs:',
        '  conf:',
        '    content: "port=${PORT}"',
        '',
      ].join('\n'),
      '.env': 'PORT=8080\n',
    });
    const { project } = await load(dir, { env: { JWT: 'tok' } });
    const api = project.services.api!;
    assert.deepEqual(api.volumes, []);
    assert.deepEqual(api.files.map((f) => [f.target, f.content, f.mode.toString(8), f.uid, f.gid]), [
      ['/run/secrets/jwt', 'tok', '444', null, null],
      ['/etc/jwt', 'tok', '440', 1000, 10],
      ['/app.ini', 'port=8080', '600', null, null],
      ['/b.ini', 'port=8080', '640', null, null],
      ['/c.ini', 'port=8080', '644', null, null],
    ]);
    // An unset variable loads (config, exec work) with no content; up/run refuse it.
    const unset = (await load(dir)).project.services.api!.files[0]!;
    assert.equal(unset.content, null);
    assert.equal(unset.environment, 'JWT');
  });

  test('a file config with mode/uid/gid is copied in (read when the container is made); without them it stays a bind mount', async () => {
    const dir = tree({
      'compose.yaml': 'services:\n  a:\n    image: busybox\n    configs: [{source: c, target: /etc/c, uid: "33", mode: "0440"}, {source: c, target: /etc/d}]\nconfigs:\n  c:\n    file: ./c.txt\n',
      'c.txt': 'x',
    });
    const a = (await load(dir)).project.services.a!;
    assert.deepEqual(a.files.map((f) => [f.target, f.hostFile, f.content, f.mode.toString(8), f.uid, f.gid]), [['/etc/c', path.join(dir, 'c.txt'), null, '440', 33, null]]);
    assert.deepEqual(a.volumes.map((m) => [m.type, m.source, m.target, m.readOnly]), [['bind', path.join(dir, 'c.txt'), '/etc/d', true]]);
  });

  test('a bad mode is refused naming where', async () => {
    const dir = tree({ 'compose.yaml': 'services:\n  a:\n    image: busybox\n    configs: [{source: c, mode: "rwx"}]\nconfigs:\n  c:\n    content: x\n' });
    assert.equal(await loadError(dir), 'services.a.configs.0.mode: invalid file mode "rwx": use an octal string such as "0440"');
  });

  test('fileTar is a tar that tar(1) lists with the modes and owners given', () => {
    const list = (tar: Buffer): string => execFileSync('tar', ['-tv', '--numeric-owner'], { input: tar }).toString().trim();
    const listing = [
      list(fileTar({ target: '/run/secrets/s', mode: 0o400, uid: 1000, gid: 2000 }, Buffer.from('abc'), 0)),
      list(fileTar({ target: `/${'d'.repeat(90)}/${'f'.repeat(60)}`, mode: 0o644, uid: null, gid: null }, Buffer.alloc(0), 0)),
    ];
    assert.match(listing[0]!, /^-r-------- 1000\/2000\s+3 1970-01-01 00:00 run\/secrets\/s$/);
    assert.match(listing[1]!, new RegExp(`^-rw-r--r-- 0/0\\s+0 1970-01-01 00:00 ${'d'.repeat(90)}/${'f'.repeat(60)}$`));
  });
});

describe('COMPOSE_* variables from the project .env', () => {
  test('COMPOSE_FILE (with COMPOSE_PATH_SEPARATOR), COMPOSE_PROFILES and COMPOSE_PROJECT_NAME come from .env; the environment wins', async () => {
    const dir = tree({
      '.env': 'COMPOSE_FILE=a.yml;b.yml\nCOMPOSE_PATH_SEPARATOR=;\nCOMPOSE_PROFILES=debug\nCOMPOSE_PROJECT_NAME=fromdotenv\n',
      'a.yml': 'services:\n  a:\n    image: busybox\n',
      'b.yml': 'services:\n  b:\n    image: busybox\n    profiles: [debug]\n  c:\n    image: busybox\n    profiles: [other]\n',
    });
    const { project } = await load(dir);
    assert.equal(project.name, 'fromdotenv');
    assert.deepEqual(Object.keys(project.services), ['a', 'b']);
    assert.deepEqual(project.configFiles, [path.join(dir, 'a.yml'), path.join(dir, 'b.yml')]);
    const over = (await load(dir, { env: { HOME: '/home/u', COMPOSE_PROJECT_NAME: 'fromenv', COMPOSE_PROFILES: 'other' } })).project;
    assert.equal(over.name, 'fromenv');
    assert.deepEqual(Object.keys(over.services), ['a', 'c']);
  });

  test('--project-directory\'s .env is the one read (COMPOSE_FILE\'s paths are the current directory\'s, as compose-go\'s)', async () => {
    const dir = tree({ 'sub/.env': 'COMPOSE_FILE=x.yml\n', 'x.yml': 'services:\n  x:\n    image: busybox\n' });
    const { project } = await load(dir, { projectDirectory: 'sub' });
    assert.deepEqual(project.configFiles, [path.join(dir, 'x.yml')]);
  });
});

describe('run options', () => {
  test('--cap-add/--cap-drop add to the service\'s, --env-from-file goes under -e', async () => {
    const dir = tree({
      'compose.yaml': 'services:\n  a:\n    image: busybox\n    cap_add: [NET_ADMIN]\n    environment: {A: svc, B: svc}\n',
      'run.env': 'B=file\nC=file\n',
    });
    const s = (await load(dir)).project.services.a!;
    const one = oneOffService(s, { service: 'a', command: [], tty: false, interactive: false, capAdd: ['SYS_TIME', 'NET_ADMIN'], capDrop: ['CHOWN'], envFiles: [path.join(dir, 'run.env')], env: ['C=flag'] }, {});
    assert.deepEqual(one.capAdd, ['NET_ADMIN', 'SYS_TIME']);
    assert.deepEqual(one.capDrop, ['CHOWN']);
    assert.deepEqual(one.environment, { A: 'svc', B: 'file', C: 'flag' });
    assert.throws(() => oneOffService(s, { service: 'a', command: [], tty: false, interactive: false, envFiles: [path.join(dir, 'nope.env')] }, {}),
      { message: `--env-from-file ${path.join(dir, 'nope.env')}: no such file or directory` });
  });
});
