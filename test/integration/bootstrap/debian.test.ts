/**
 * Base images without the internet: `hako image bootstrap` makes debian:bookworm with debootstrap
 * from the host's Debian mirror (once per run of this file, in one hakod), and the seeds' patterns
 * build and run on it: an nginx static site and a Node API with `npm ci` cached before the sources
 * (seeds Day 46), and a multi-stage Go build into `scratch` running as a non-root user (seeds 002
 * §2), each answering over a published port.
 *
 * Needs the Debian mirror and debootstrap: without them every test here is SKIPPED with
 * "Debian mirror unreachable: …" / "debootstrap is not installed …" (test/support/debian-mirror.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { startHakod, type Hakod, type RunResult } from '../../support/hakod.js';
import { freePort, httpGet } from '../../support/network-cli.js';
import { debianMirrorSkip } from '../../support/debian-mirror.js';
import { startHakoRegistry } from '../registry/helpers.js';

function ok(r: RunResult, d: Hakod): string {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}\n--- hakod ---\n${d.logTail(15)}`);
  return r.stdout;
}

function project(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/**
 * Runs `image` detached as `name` with `containerPort` published on a free 127.0.0.1 port;
 * answers what it serves at GET /, and removes the container whatever happens.
 */
async function servedPage(d: Hakod, name: string, image: string, containerPort: number): Promise<string> {
  const port = await freePort();
  ok(await d.hako(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:${containerPort}`, image]), d);
  try {
    return await httpGet(port, '/');
  } finally {
    await d.hako(['rm', '-f', name]);
  }
}

const skip = await debianMirrorSkip();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('hako image bootstrap and the seeds on debian:bookworm', { skip }, () => {
  let d: Hakod;
  let dir: string;
  let bootstrap: RunResult;
  let bootstrapMs = 0;
  const fileStart = Date.now();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hako-bootstrap-'));
    d = await startHakod({ busybox: false });
    const t0 = Date.now();
    // The one bootstrap of this file: every test below uses this image.
    bootstrap = await d.hako(['image', 'bootstrap', 'debian:bookworm'], { timeoutMs: 170_000 });
    bootstrapMs = Date.now() - t0;
  });
  after(async () => {
    await d?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`# debian bootstrap tests: bootstrap ${seconds(bootstrapMs)}, whole file ${seconds(Date.now() - fileStart)}\n`);
  });

  it('bootstraps debian:bookworm with progress lines, a docker-like config and docker\'s two history entries', async (t) => {
    t.diagnostic(`debootstrap --variant=minbase bookworm + commit: ${seconds(bootstrapMs)}`);
    const out = ok(bootstrap, d);
    assert.match(out, /^I: Retrieving InRelease/m);
    assert.match(out, /^I: Base system installed successfully\./m);
    assert.match(out, /^sha256:[0-9a-f]{64}$/m);
    const config = JSON.parse(ok(await d.hako(['image', 'inspect', '--format', '{{json .Config}}', 'debian:bookworm']), d)) as { Cmd: string[]; Env: string[] };
    assert.deepEqual(config.Cmd, ['bash']);
    assert.deepEqual(config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const layers = ok(await d.hako(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'debian:bookworm']), d).trim();
    assert.equal(layers, '1');
    const history = ok(await d.hako(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', 'debian:bookworm']), d).trim();
    // Docker's debian images have two entries: the layer, then CMD ["bash"] as an empty layer.
    assert.match(history, /^\/bin\/sh -c #\(nop\) {2}CMD \["bash"\]\|\nhako image bootstrap --suite bookworm --variant minbase --mirror http\S+\|made with debootstrap \S+ --variant=minbase bookworm http\S+$/);
    const sizes = ok(await d.hako(['history', '--format', '{{.Size}}', 'debian:bookworm']), d).trim().split('\n');
    assert.equal(sizes[0], '0B');
    assert.match(sizes[1] as string, /^\d+(\.\d+)?MB$/);
  });

  it('runs cat /etc/debian_version in it, with an empty /dev in the image and no apt lists', async () => {
    assert.match(ok(await d.hako(['run', '--rm', 'debian:bookworm', 'cat', '/etc/debian_version']), d), /^12\.\d+\n$/);
    const out = ok(await d.hako(['run', '--rm', 'debian:bookworm', 'bash', '-c', 'ls /var/lib/apt/lists; cat /usr/sbin/policy-rc.d | tail -1']), d);
    assert.equal(out, 'partial\nexit 101\n');
  });

  it('saves as a one-layer archive that load brings back under the same id', async () => {
    const id = ok(await d.hako(['image', 'inspect', '--format', '{{.Id}}', 'debian:bookworm']), d).trim();
    const archive = join(dir, 'debian.tar');
    ok(await d.hako(['save', '-o', archive, 'debian:bookworm'], { timeoutMs: 60_000 }), d);
    const entries: string[] = [];
    const ex = tar.extract();
    createReadStream(archive).pipe(ex);
    let manifest = '';
    for await (const e of ex) {
      entries.push(e.header.name);
      if (e.header.name === 'manifest.json') for await (const c of e) manifest += String(c);
      else e.resume();
    }
    const m = JSON.parse(manifest) as Array<{ RepoTags: string[]; Layers: string[] }>;
    assert.deepEqual(m[0]?.RepoTags, ['debian:bookworm']);
    assert.equal(m[0]?.Layers.length, 1);
    ok(await d.hako(['rmi', 'debian:bookworm']), d);
    ok(await d.hako(['load', '-i', archive], { timeoutMs: 60_000 }), d);
    assert.equal(ok(await d.hako(['image', 'inspect', '--format', '{{.Id}}', 'debian:bookworm']), d).trim(), id);
  });

  it('pushes to a registry and pulls back the same image', async () => {
    const reg = await startHakoRegistry();
    try {
      const id = ok(await d.hako(['image', 'inspect', '--format', '{{.Id}}', 'debian:bookworm']), d).trim();
      const remote = `${reg.host}/debian:bookworm`;
      ok(await d.hako(['tag', 'debian:bookworm', remote]), d);
      ok(await d.hako(['push', remote], { timeoutMs: 60_000 }), d);
      ok(await d.hako(['rmi', remote]), d);
      ok(await d.hako(['pull', remote], { timeoutMs: 60_000 }), d);
      assert.equal(ok(await d.hako(['image', 'inspect', '--format', '{{.Id}}', remote]), d).trim(), id);
      ok(await d.hako(['rmi', remote]), d);
    } finally {
      await reg.close();
    }
  });

  it('refuses a suite the mirror does not have, and an unreachable mirror, naming them; nothing is tagged', async () => {
    const bad = await d.hako(['image', 'bootstrap', 'nosuite:x', '--suite', 'nosuchsuite']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /suite "nosuchsuite" not found on http\S+ \(no dists\/nosuchsuite\/Release\)/);
    const port = await freePort(); // nothing listens on it
    const down = await d.hako(['image', 'bootstrap', 'nosuite:y', '--mirror', `http://127.0.0.1:${port}/debian`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`Debian mirror http://127\\.0\\.0\\.1:${port}/debian is unreachable \\(ECONNREFUSED\\)`));
    const variant = await d.hako(['image', 'bootstrap', 'nosuite:z', '--variant', 'fat']);
    assert.match(variant.stderr, /invalid variant "fat": use minbase or buildd/);
    assert.equal(ok(await d.hako(['images', '-q', 'nosuite']), d), '');
  });

  it('builds the nginx static site seed (Day 46) and serves its page on a published port', async (t) => {
    const ctx = project(join(dir, 'site'), {
      'index.html': '<!doctype html>\n<h1>hako: nginx on a bootstrapped debian</h1>\n',
      Dockerfile: [
        'FROM debian:bookworm',
        'RUN apt-get update && apt-get install -y --no-install-recommends nginx',
        'COPY index.html /var/www/html/index.html',
        'EXPOSE 80',
        'CMD ["nginx", "-g", "daemon off;"]',
        '',
      ].join('\n'),
    });
    const t0 = Date.now();
    ok(await d.hako(['build', '-t', 'site:1', ctx], { timeoutMs: 150_000 }), d);
    t.diagnostic(`build (apt-get install nginx): ${seconds(Date.now() - t0)}`);
    assert.equal(await servedPage(d, 'site', 'site:1', 80), '<!doctype html>\n<h1>hako: nginx on a bootstrapped debian</h1>\n');
  });

  it('builds the Node API seed (Day 46): npm ci stays cached when only the sources change, and it answers', async (t) => {
    const ctx = project(join(dir, 'api'), {
      'package.json': '{ "name": "api", "version": "1.0.0", "private": true, "dependencies": { "ms": "2.1.3" } }\n',
      'package-lock.json': `${JSON.stringify({
        name: 'api', version: '1.0.0', lockfileVersion: 3, requires: true,
        packages: {
          '': { name: 'api', version: '1.0.0', dependencies: { ms: '2.1.3' } },
          'node_modules/ms': {
            version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
            integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
          },
        },
      }, null, 2)}\n`,
      'server.js': "const http = require('http');\nconst ms = require('ms');\nhttp.createServer((req, res) => res.end(JSON.stringify({ version: 1, minute: ms(60000) }))).listen(3000);\n",
      // The host's CA bundle: where the npm registry is reached through a TLS-inspecting proxy
      // (as on these machines), npm in the container must trust the same CAs as the host.
      'npm-ca.crt': readFileSync(process.env.NODE_EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt', 'utf8'),
      Dockerfile: [
        'FROM debian:bookworm',
        'RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm',
        'WORKDIR /app',
        'COPY npm-ca.crt /etc/ssl/certs/npm-ca.crt',
        'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/npm-ca.crt',
        'COPY package.json package-lock.json ./',
        'RUN npm ci --omit=dev',
        'COPY server.js ./',
        'USER nobody',
        'EXPOSE 3000',
        'CMD ["node", "server.js"]',
        '',
      ].join('\n'),
    });
    const t0 = Date.now();
    ok(await d.hako(['build', '-t', 'api:1', ctx], { timeoutMs: 170_000 }), d);
    t.diagnostic(`build (apt-get install nodejs npm, npm ci): ${seconds(Date.now() - t0)}`);
    writeFileSync(join(ctx, 'server.js'), readFileSync(join(ctx, 'server.js'), 'utf8').replace('version: 1', 'version: 2'));
    const rebuild = ok(await d.hako(['build', '-t', 'api:2', ctx], { timeoutMs: 60_000 }), d);
    const step = (n: number) => rebuild.split(/^Step \d+\/\d+ : /m)[n] ?? '';
    assert.match(step(7), /^RUN npm ci --omit=dev\n ---> Using cache/);
    assert.match(step(8), /^COPY server\.js \.\/\n(?! ---> Using cache)/);
    assert.equal(await servedPage(d, 'api', 'api:2', 3000), '{"version":2,"minute":"1m"}');
  });

  it('builds the multi-stage Go seed (golang-go) into a small scratch image that runs as a non-root user', async (t) => {
    const ctx = project(join(dir, 'go'), {
      'go.mod': 'module example.com/hello\n\ngo 1.19\n',
      'main.go': [
        'package main', '', 'import (', '\t"fmt"', '\t"net/http"', '\t"os"', ')', '',
        'func main() {',
        '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello from go, uid %d\\n", os.Getuid()) })',
        '\thttp.ListenAndServe(":8080", nil)',
        '}', '',
      ].join('\n'),
      Dockerfile: [
        'FROM debian:bookworm AS build',
        'RUN apt-get update && apt-get install -y --no-install-recommends golang-go',
        'WORKDIR /src',
        'COPY go.mod main.go ./',
        'RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/server .',
        '',
        'FROM scratch',
        'COPY --from=build /out/server /server',
        'USER 65534:65534',
        'EXPOSE 8080',
        'ENTRYPOINT ["/server"]',
        '',
      ].join('\n'),
    });
    const t0 = Date.now();
    ok(await d.hako(['build', '-t', 'goapp:1', ctx], { timeoutMs: 170_000 }), d);
    t.diagnostic(`build (apt-get install golang-go, go build): ${seconds(Date.now() - t0)}`);
    // Only the binary: one layer, a few MB (the build stage is ~500 MB).
    assert.equal(ok(await d.hako(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', 'goapp:1']), d).trim(), '1');
    const size = Number(ok(await d.hako(['image', 'inspect', '--format', '{{.Size}}', 'goapp:1']), d).trim());
    assert.ok(size < 20_000_000, `goapp:1 is ${size} bytes`);
    assert.equal(await servedPage(d, 'goweb', 'goapp:1', 8080), 'hello from go, uid 65534\n');
  });
});
