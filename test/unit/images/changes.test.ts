import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgument } from '../../../src/errdefs/index.js';
import { applyChanges } from '../../../src/images/index.js';

test('CMD and ENTRYPOINT take the JSON exec form', () => {
  const c = applyChanges({}, ['CMD ["sh", "-c", "echo hi"]', 'ENTRYPOINT ["/bin/tini", "--"]']);
  assert.deepEqual(c.Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/tini', '--']);
});

test('CMD and ENTRYPOINT in shell form run under /bin/sh -c', () => {
  assert.deepEqual(applyChanges({}, ['CMD echo hello world']).Cmd, ['/bin/sh', '-c', 'echo hello world']);
  assert.deepEqual(applyChanges({}, ['ENTRYPOINT top -b']).Entrypoint, ['/bin/sh', '-c', 'top -b']);
});

test('ENTRYPOINT clears an inherited CMD unless CMD was also changed before it', () => {
  assert.equal(applyChanges({ Cmd: ['sh'] }, ['ENTRYPOINT ["x"]']).Cmd, null);
  assert.deepEqual(applyChanges({ Cmd: ['sh'] }, ['CMD ["y"]', 'ENTRYPOINT ["x"]']).Cmd, ['y']);
});

test('ENV takes k=v pairs, quotes, the legacy "k v" form, and replaces existing keys', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=old'] }, ['ENV A=1 B="two words"', 'ENV C some value here', 'ENV D=$A-${B}']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=two words', 'C=some value here', 'D=1-two words']);
});

test('WORKDIR resolves relative paths against the previous one', () => {
  assert.equal(applyChanges({}, ['WORKDIR /app', 'WORKDIR src']).WorkingDir, '/app/src');
});

test('USER, STOPSIGNAL and LABEL set their fields', () => {
  const c = applyChanges({ Labels: { keep: 'yes' } }, ['USER 1001:1001', 'STOPSIGNAL SIGQUIT', 'LABEL a=b "c d"="e f"', 'LABEL legacy value']);
  assert.equal(c.User, '1001:1001');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Labels, { keep: 'yes', a: 'b', 'c d': 'e f', legacy: 'value' });
});

test('EXPOSE fills ExposedPorts with the protocol defaulting to tcp, ranges expanded', () => {
  const c = applyChanges({}, ['EXPOSE 80 53/udp 8000-8001']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
});

test('VOLUME takes a JSON list or words', () => {
  assert.deepEqual(applyChanges({}, ['VOLUME ["/data", "/logs"]', 'VOLUME /cache']).Volumes, { '/data': {}, '/logs': {}, '/cache': {} });
});

test('ONBUILD records the trigger and refuses ONBUILD ONBUILD', () => {
  assert.deepEqual(applyChanges({}, ['ONBUILD RUN echo hi']).OnBuild, ['RUN echo hi']);
  assert.throws(() => applyChanges({}, ['ONBUILD ONBUILD RUN x']), InvalidArgument);
});

test('HEALTHCHECK parses options and both command forms', () => {
  const c = applyChanges({}, ['HEALTHCHECK --interval=30s --timeout=1m30s --retries=3 CMD wget -q localhost']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 30e9, Timeout: 90e9, Retries: 3 });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK CMD ["true"]']).Healthcheck, { Test: ['CMD', 'true'] });
});

test('instruction names are case-insensitive and one change may hold several lines', () => {
  const c = applyChanges({}, ['cmd ["a"]\nuser nobody']);
  assert.deepEqual(c.Cmd, ['a']);
  assert.equal(c.User, 'nobody');
});

test('an unknown or build-only instruction is refused, naming it', () => {
  for (const bad of ['RUN echo hi', 'FROM busybox', 'COPY a b', 'BOGUS x']) {
    assert.throws(() => applyChanges({}, [bad]), (err: unknown) => {
      assert.ok(err instanceof InvalidArgument);
      assert.match(err.message, new RegExp(`^${bad.split(' ')[0]?.toLowerCase()} is not a valid change command`));
      return true;
    });
  }
});

test('the input config is left untouched', () => {
  const orig = { Env: ['A=1'], Labels: { x: 'y' } };
  applyChanges(orig, ['ENV A=2', 'LABEL x=z']);
  assert.deepEqual(orig, { Env: ['A=1'], Labels: { x: 'y' } });
});
