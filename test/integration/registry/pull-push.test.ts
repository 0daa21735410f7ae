import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestEngine, type TestEngine } from '../../support/engine.js';
import { recorder, startHakoRegistry, type Running } from './helpers.js';

describe('pull and push against hako registry serve', () => {
  let te: TestEngine;
  let reg: Running;
  before(async () => {
    te = await startTestEngine();
    reg = await startHakoRegistry();
  });
  after(async () => {
    await reg?.close();
    await te?.close();
  });

  it('push sends the layers, config and manifest, and pull brings the image back', async () => {
    const { engine } = te;
    const name = `${reg.host}/tools/busybox`;
    await engine.images.tag('busybox:latest', name, '1.0');
    const push = recorder();
    await engine.registry.push(name, { tag: '1.0', progress: push.progress });
    assert.ok(push.statuses().includes(`The push refers to repository [${name}]`));
    assert.ok(push.statuses().includes('Pushed'), push.statuses().join('\n'));
    const digestLine = push.statuses().find((s) => s.startsWith('1.0: digest: sha256:'));
    assert.ok(digestLine, 'a digest line');

    const before = await engine.images.inspect('busybox:latest');
    await engine.images.remove(name + ':1.0', {});
    await engine.images.remove('busybox:latest', { force: true });
    const pull = recorder();
    await engine.registry.pull(`${name}:1.0`, { progress: pull.progress });
    const st = pull.statuses();
    assert.ok(st.includes('Pulling from tools/busybox'), st.join('\n'));
    assert.ok(st.includes('Pull complete'), st.join('\n'));
    assert.ok(st.some((s) => s.startsWith('Status: Downloaded newer image for')), st.join('\n'));
    const after = await engine.images.inspect(`${name}:1.0`);
    assert.equal(after.Id, before.Id);
    assert.ok((after.RepoDigests as string[]).some((d) => d.startsWith(`${name}@sha256:`)));

    const again = recorder();
    await engine.registry.pull(`${name}:1.0`, { progress: again.progress });
    assert.ok(again.statuses().includes('Already exists'));
    assert.ok(again.statuses().includes(`Status: Image is up to date for ${name}:1.0`));
  });
});
