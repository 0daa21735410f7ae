/**
 * POST /build: the classic builder protocol (what `DOCKER_BUILDKIT=0 docker build` sends). The
 * body is the context tar, streamed to the engine; the answer is Docker's JSON progress stream,
 * with errors after the first message sent in-band as errorDetail.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidArgument, NotImplemented } from '../../errdefs/index.js';
import type { Call, Handler } from '../call.js';
import { boolParam, filtersParam, stringParam } from '../query.js';
import { JsonProgress, sendJson } from '../reply.js';

/** Query parameters Docker's /build takes that change nothing here (resource limits of RUN containers are not applied yet). */
const IGNORED = new Set(['rm', 'forcerm', 'session', 'version', 'platform', 'shmsize', 'memory', 'memswap', 'cpushares', 'cpusetcpus', 'cpusetmems', 'cpuperiod', 'cpuquota', 'ulimits', 'extrahosts', 'isolation', 'squash', 'outputs', 'buildid']);

/** A JSON array of strings in the query (`cachefrom=["app:1"]`); docker's CLI sends it so. */
function jsonList(call: Call, name: string): string[] {
  const text = stringParam(call.query, name);
  if (!text) return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InvalidArgument(`query parameter "${name}" is not JSON: ${text}`);
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new InvalidArgument(`query parameter "${name}" must be a JSON array of strings`);
  return v as string[];
}

function jsonMap(call: Call, name: string): Record<string, string | null> {
  const text = stringParam(call.query, name);
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new InvalidArgument(`query parameter "${name}" is not JSON: ${text}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgument(`query parameter "${name}" must be a JSON object of strings`);
  return v as Record<string, string | null>;
}

/** hako's `--secret`s: base64 JSON {id: base64 bytes} in X-Hako-Build-Secrets (docker's classic builder has none). */
function secretsOf(call: Call): Record<string, Buffer> {
  const raw = call.req.headers['x-hako-build-secrets'];
  if (typeof raw !== 'string' || raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw new InvalidArgument('header X-Hako-Build-Secrets is not base64 JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgument('header X-Hako-Build-Secrets must be a JSON object of base64 strings');
  const out: Record<string, Buffer> = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new InvalidArgument(`header X-Hako-Build-Secrets: secret ${k} is not a base64 string`);
    out[k] = Buffer.from(s, 'base64');
  }
  return out;
}

/**
 * The context as a plain tar. The API takes it gzip-compressed too (dockerode packs contexts so,
 * `docker build --compress` as well); bzip2 and xz, which Docker also accepts, are refused.
 */
async function uncompressedContext(body: Readable): Promise<Readable> {
  const { head, stream } = await peek(body, 6);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    pipeline(stream, gunzip, () => undefined); // an error reaches the builder through gunzip
    return gunzip;
  }
  if (head.subarray(0, 3).toString('latin1') === 'BZh' || head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new InvalidArgument('the build context is bzip2 or xz compressed, which hako does not read: send it as a plain or gzip-compressed tar');
  }
  return stream;
}

/** The first `n` bytes of a stream (fewer if it ends first) and a stream that still yields them. */
function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (ended: boolean, err?: Error) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) return reject(err);
      stream.pause();
      const seen = Buffer.concat(chunks);
      if (ended) return resolve({ head: seen.subarray(0, n), stream: Readable.from(seen.length ? [seen] : []) });
      stream.unshift(seen);
      resolve({ head: seen.subarray(0, n), stream });
    };
    const onData = (b: Buffer) => { chunks.push(b); length += b.length; if (length >= n) settle(false); };
    const onEnd = () => settle(true);
    const onError = (e: Error) => settle(false, e);
    stream.on('data', onData).once('end', onEnd).once('error', onError);
  });
}

async function build(call: Call): Promise<void> {
  const builder = call.engine.build;
  if (!builder) throw new NotImplemented('this daemon has no builder');
  const q = call.query;
  if (stringParam(q, 'version') === '2') throw new NotImplemented('BuildKit (version=2) is not supported: set DOCKER_BUILDKIT=0 to use the classic builder');
  if (stringParam(q, 'remote')) throw new NotImplemented('building from a remote URL is not supported yet: send the context as a tar');
  const squash = boolParam(q, 'squash');
  if (squash) throw new NotImplemented('--squash is not supported');
  const tags = q.getAll('t').filter((t) => t !== '');
  const labels = jsonMap(call, 'labels') as Record<string, string>;
  const buildArgs = jsonMap(call, 'buildargs');
  const secrets = secretsOf(call);
  const cacheFrom = jsonList(call, 'cachefrom');
  // hako's --no-cache-filter (the classic /build has none; BuildKit's frontend option no-cache).
  const noCacheFilter = jsonList(call, 'nocachefilter');
  const progress = new JsonProgress(call.res);
  const abort = new AbortController();
  const onClose = () => { if (!call.res.writableFinished) abort.abort(new Error('the client disconnected')); };
  call.res.on('close', onClose);
  const unknown = [...new Set(q.keys())].filter((k) => !IGNORED.has(k) && !['t', 'dockerfile', 'buildargs', 'target', 'labels', 'nocache', 'q', 'pull', 'networkmode', 'remote', 'cachefrom', 'nocachefilter', 'hakosteps'].includes(k));
  try {
    if (unknown.length > 0) progress.send({ stream: `[Warning] build options not supported by hako, ignored: ${unknown.join(', ')}\n` });
    const networkMode = stringParam(q, 'networkmode');
    const target = stringParam(q, 'target');
    const dockerfile = stringParam(q, 'dockerfile');
    await builder.build(await uncompressedContext(call.req), {
      tags, labels, buildArgs,
      ...(dockerfile ? { dockerfile } : {}),
      ...(target ? { target } : {}),
      ...(networkMode ? { networkMode } : {}),
      noCache: boolParam(q, 'nocache'),
      quiet: boolParam(q, 'q'),
      pull: boolParam(q, 'pull'),
      secrets,
      ...(cacheFrom.length > 0 ? { cacheFrom } : {}),
      ...(noCacheFilter.length > 0 ? { noCacheFilter } : {}),
      // hako's own: structured step events for `hako build`'s TTY display (src/archive/step-events.ts).
      stepEvents: boolParam(q, 'hakosteps'),
      signal: abort.signal,
    }, (m) => { if (!call.res.destroyed) progress.send(m); });
  } catch (err) {
    call.req.resume();
    const message = err instanceof Error ? err.message : String(err);
    // docker's CLI exits with errorDetail.code: a failed RUN's exit code.
    const exit = (err as { exitCode?: unknown } | null)?.exitCode;
    const code = typeof exit === 'number' ? exit : undefined;
    progress.send({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
  } finally {
    call.res.off('close', onClose);
  }
  progress.end();
}

/**
 * POST /build/prune (API v1.47 BuildPrune): all, keep-storage (bytes), filters {until: [duration
 * or timestamp]}; answers {CachesDeleted, SpaceReclaimed}.
 */
async function buildPrune(call: Call): Promise<void> {
  const builder = call.engine.build;
  if (!builder?.prune) throw new NotImplemented('this daemon has no builder');
  const q = call.query;
  const filters = filtersParam(q);
  let until: string | undefined;
  for (const [k, values] of Object.entries(filters)) {
    if (k !== 'until') throw new InvalidArgument(`invalid filter '${k}': hako's builder prune takes until= only`);
    until = values.at(-1);
  }
  const keep = stringParam(q, 'keep-storage') ?? stringParam(q, 'reserved-space');
  let keepStorage: number | undefined;
  if (keep !== undefined && keep !== '' && keep !== '0') {
    if (!/^\d+$/.test(keep)) throw new InvalidArgument(`invalid keep-storage "${keep}": a number of bytes`);
    keepStorage = Number(keep);
  }
  for (const k of ['max-used-space', 'min-free-space']) {
    const v = stringParam(q, k);
    if (v && v !== '0') throw new NotImplemented(`builder prune ${k} is not supported by hako: use keep-storage`);
  }
  sendJson(call.res, 200, await builder.prune({ all: boolParam(q, 'all'), ...(until !== undefined ? { until } : {}), ...(keepStorage !== undefined ? { keepStorage } : {}) }));
}

export const buildRoutes: Partial<Record<'build' | 'buildPrune', Handler>> = { build, buildPrune };
