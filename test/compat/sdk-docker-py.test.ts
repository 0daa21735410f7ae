/**
 * docker-py against hakod, unchanged: `sdk-docker-py.py` drives the Python SDK (containers, exec,
 * archives, builds, networks, volumes, events, df, prunes) with DOCKER_HOST at a test hakod and
 * prints one JSON line per step; each step is one assertion here, for each docker-py installed.
 */
import { describe, it, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startHakod, run, REPO_ROOT, type Hakod, type RunResult } from '../support/hakod.js';
import { htpasswdFile, startHakoRegistry } from '../integration/registry/helpers.js';

interface StepLine { step: string; ok: boolean; error?: string }

const STEPS = [
  'version_and_info', 'images_list_get_tag', 'login_push_pull', 'run_detached_with_ports_env_volumes_labels', 'logs_stream',
  'exec_run_plain_stream_demux', 'put_and_get_archive', 'list_with_filters', 'stop_wait_remove',
  'build_from_fileobj_and_path', 'networks_create_connect', 'volumes_create', 'events_bounded_by_until',
  'df_and_prunes',
];

/**
 * Each Python with docker-py: Debian's /usr/bin/python3 with python3-docker (what CI installs with
 * docker-compose) and the `python3` on PATH when it is another one with its own docker-py.
 */
function interpreters(): Array<{ python: string; label: string }> {
  const found = new Map<string, string>();
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      const [exe = '', version = ''] = execFileSync(python, ['-c', 'import sys, docker; print(sys.executable, docker.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split(' ');
      if (!found.has(exe)) found.set(exe, `docker-py ${version} (${exe})`);
    } catch { /* no such python, or no docker module in it */ }
  }
  return [...found].map(([python, label]) => ({ python, label }));
}

const PYTHONS = interpreters();

it('a Python with docker-py is installed (apt-get install docker-compose brings python3-docker)', () => {
  assert.ok(PYTHONS.length > 0, 'neither /usr/bin/python3 nor python3 imports docker');
});

for (const { python, label } of PYTHONS) describe(`${label} against hakod`, () => {
  let d: Hakod;
  let result: RunResult;
  let reg: Awaited<ReturnType<typeof startHakoRegistry>> | undefined;
  const steps = new Map<string, StepLine>();
  const work = mkdtempSync(join(tmpdir(), 'hako-sdk-py-'));
  before(async () => {
    d = await startHakod();
    reg = await startHakoRegistry({ htpasswd: htpasswdFile(work, 'alice', 's3cret') });
    result = await run(python, [join(REPO_ROOT, 'test/compat/sdk-docker-py.py')], {
      env: { ...d.env, SDK_WORK: work, SDK_REGISTRY: `localhost:${reg.port}` } as Record<string, string>, timeoutMs: 120_000,
    });
    for (const line of result.stdout.split('\n')) {
      if (line.startsWith('{')) { const s = JSON.parse(line) as StepLine; steps.set(s.step, s); }
    }
  });
  after(async () => {
    try { await d?.stop(); } finally {
      await reg?.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('the script ran every step', () => {
    assert.deepEqual([...steps.keys()], STEPS, `exit ${result.code}\nstderr: ${result.stderr}`);
  });

  for (const name of STEPS) {
    it(name.replaceAll('_', ' '), () => {
      const s = steps.get(name);
      assert.ok(s, `step ${name} did not run; stderr: ${result.stderr}`);
      assert.ok(s.ok, `${s.error}\n--- hakod log tail ---\n${d.logTail(15)}`);
    });
  }
});
