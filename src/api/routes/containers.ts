/** /containers/...: lifecycle, inspection, logs, archives, attach and wait. */
import { InvalidArgument, NotImplemented } from '../../errdefs/index.js';
import type { ArchiveStat, ContainerService, Json } from '../../engine/contract.js';
import type { Call, Handler, HijackHandler } from '../call.js';
import { pipeSession } from '../hijack.js';
import { boolParam, filtersParam, intParam, requiredParam, secondsParam, stringParam } from '../query.js';
import { parseJsonObject, readBody, sendEmpty, sendJson, sendStream, streamContentType, writeOutput } from '../reply.js';

/** Docker's container name rule (daemon/names.go), with the optional leading slash. */
const NAME_RULE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const WAIT_CONDITIONS = new Set(['not-running', 'next-exit', 'removed']);
const TAR = 'application/x-tar';

/** Optional engine methods that a later issue adds; until then the API answers 501. */
type MaybeUpdatable = ContainerService & { update?: (ref: string, body: Json) => Promise<{ Warnings: string[] }> };

function stopOptions(call: Call): { signal?: string; timeout?: number } {
  const opts: { signal?: string; timeout?: number } = {};
  const signal = stringParam(call.query, 'signal');
  if (signal !== undefined) opts.signal = signal;
  const timeout = intParam(call.query, 't');
  if (timeout !== undefined) opts.timeout = timeout;
  return opts;
}

function size(call: Call, name: 'h' | 'w'): number {
  const value = intParam(call.query, name);
  if (value === undefined || value < 0) throw new InvalidArgument(`query parameter "${name}" must be a non-negative integer`);
  return value;
}

function statHeader(stat: ArchiveStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

export const containerRoutes = {
  async containerList(call) {
    const q = call.query;
    const opts: Parameters<ContainerService['list']>[0] = { all: boolParam(q, 'all'), size: boolParam(q, 'size'), filters: filtersParam(q) };
    const limit = intParam(q, 'limit');
    if (limit !== undefined && limit > 0) opts.limit = limit;
    sendJson(call.res, 200, await call.engine.containers.list(opts));
  },

  async containerCreate(call) {
    const opts: { name?: string; platform?: string } = {};
    const name = stringParam(call.query, 'name');
    if (name !== undefined) {
      if (!NAME_RULE.test(name)) throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      opts.name = name.startsWith('/') ? name.slice(1) : name;
    }
    const platform = stringParam(call.query, 'platform');
    if (platform !== undefined) opts.platform = platform;
    const body = parseJsonObject(await readBody(call.req), 'container config');
    if (body === null) throw new InvalidArgument('config cannot be empty in order to create a container');
    sendJson(call.res, 201, await call.engine.containers.create(body, opts));
  },

  async containerPrune(call) {
    sendJson(call.res, 200, await call.engine.containers.prune(filtersParam(call.query)));
  },

  async containerInspect(call) {
    sendJson(call.res, 200, await call.engine.containers.inspect(call.param, { size: boolParam(call.query, 'size') }));
  },

  async containerTop(call) {
    sendJson(call.res, 200, await call.engine.containers.top(call.param, stringParam(call.query, 'ps_args')));
  },

  async containerLogs(call) {
    const q = call.query;
    const stdout = boolParam(q, 'stdout');
    const stderr = boolParam(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidArgument('Bad parameters: you must choose at least one stream');
    const tailRaw = stringParam(q, 'tail');
    let tail: number | 'all' = 'all';
    if (tailRaw !== undefined && tailRaw !== 'all') {
      tail = Number(tailRaw);
      if (!Number.isInteger(tail)) throw new InvalidArgument(`invalid value for query parameter "tail": "${tailRaw}" (a number of lines or "all")`);
      if (tail < 0) tail = 'all';
    }
    const timestamps = boolParam(q, 'timestamps');
    const abort = new AbortController();
    call.res.once('close', () => { if (!call.res.writableFinished) abort.abort(); });
    const { tty, entries } = await call.engine.containers.logs(call.param, {
      follow: boolParam(q, 'follow'), stdout, stderr, since: secondsParam(q, 'since'), until: secondsParam(q, 'until'),
      timestamps, tail, details: boolParam(q, 'details'), signal: abort.signal,
    });
    call.res.writeHead(200, { 'Content-Type': streamContentType(tty, call.version) });
    call.res.flushHeaders(); // `docker logs -f` returns from its request only once headers arrive
    try {
      // The API layer renders timestamps from each chunk's time; the engine only supplies it.
      await writeOutput(call.res, entries, tty, timestamps);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    call.res.end();
  },

  async containerChanges(call) {
    sendJson(call.res, 200, await call.engine.containers.changes(call.param));
  },

  async containerExport(call) {
    await sendStream(call.res, await call.engine.containers.export(call.param), TAR);
  },

  async containerResize(call) {
    await call.engine.containers.resize(call.param, size(call, 'h'), size(call, 'w'));
    sendEmpty(call.res, 200);
  },

  async containerStart(call) {
    const detachKeys = stringParam(call.query, 'detachKeys');
    await call.engine.containers.start(call.param, detachKeys === undefined ? {} : { detachKeys });
    sendEmpty(call.res, 204);
  },

  async containerStop(call) {
    await call.engine.containers.stop(call.param, stopOptions(call));
    sendEmpty(call.res, 204);
  },

  async containerRestart(call) {
    await call.engine.containers.restart(call.param, stopOptions(call));
    sendEmpty(call.res, 204);
  },

  async containerKill(call) {
    await call.engine.containers.kill(call.param, stringParam(call.query, 'signal'));
    sendEmpty(call.res, 204);
  },

  async containerUpdate(call) {
    const containers = call.engine.containers as MaybeUpdatable;
    if (typeof containers.update !== 'function') {
      throw new NotImplemented(`updating the resources of container "${call.param}" is not implemented yet; recreate the container with the new limits`);
    }
    const body = parseJsonObject(await readBody(call.req), 'update config') ?? {};
    sendJson(call.res, 200, await containers.update(call.param, body));
  },

  async containerRename(call) {
    await call.engine.containers.rename(call.param, requiredParam(call.query, 'name'));
    sendEmpty(call.res, 204);
  },

  async containerPause(call) {
    await call.engine.containers.pause(call.param);
    sendEmpty(call.res, 204);
  },

  async containerUnpause(call) {
    await call.engine.containers.unpause(call.param);
    sendEmpty(call.res, 204);
  },

  /**
   * The docker CLI calls wait before start and blocks until the response headers arrive, so the
   * 200 goes out as soon as the wait is registered; the body follows when the engine resolves.
   * An error the engine raises at once (no such container) still gets its own status.
   */
  async containerWait(call) {
    const condition = stringParam(call.query, 'condition') ?? 'not-running';
    if (!WAIT_CONDITIONS.has(condition)) throw new InvalidArgument(`invalid condition "${condition}": use not-running, next-exit or removed`);
    const abort = new AbortController();
    call.res.once('close', () => { if (!call.res.writableFinished) abort.abort(); });
    const outcome = call.engine.containers.wait(call.param, condition, abort.signal).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // One turn of the event loop is enough for the engine to reject an unknown container.
    const early = await Promise.race([outcome, new Promise<null>((resolve) => setImmediate(resolve, null))]);
    if (early !== null && 'error' in early) throw early.error;
    call.res.writeHead(200, { 'Content-Type': 'application/json' });
    call.res.flushHeaders();
    const result = early ?? (await outcome);
    if (abort.signal.aborted) return;
    const body = 'value' in result
      ? { StatusCode: result.value.StatusCode, Error: result.value.Error ?? null }
      : { StatusCode: -1, Error: { Message: result.error instanceof Error ? result.error.message : String(result.error) } };
    call.res.end(`${JSON.stringify(body)}\n`);
  },

  async containerDelete(call) {
    const q = call.query;
    await call.engine.containers.remove(call.param, { force: boolParam(q, 'force'), volumes: boolParam(q, 'v'), link: boolParam(q, 'link') });
    sendEmpty(call.res, 204);
  },

  async archiveStat(call) {
    const stat = await call.engine.containers.statPath(call.param, requiredParam(call.query, 'path'));
    call.res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Length': 0 });
    call.res.end();
  },

  async archiveGet(call) {
    const { stat, tar } = await call.engine.containers.getArchive(call.param, requiredParam(call.query, 'path'));
    await sendStream(call.res, tar, TAR, { 'X-Docker-Container-Path-Stat': statHeader(stat) });
  },

  async archivePut(call) {
    const q = call.query;
    await call.engine.containers.putArchive(call.param, requiredParam(q, 'path'), call.req, {
      noOverwriteDirNonDir: boolParam(q, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(q, 'copyUIDGID'),
    });
    sendEmpty(call.res, 200);
  },

  async execCreate(call) {
    const body = parseJsonObject(await readBody(call.req), 'exec config');
    if (body === null) throw new InvalidArgument('exec config cannot be empty');
    sendJson(call.res, 201, await call.engine.exec.create(call.param, body));
  },

  async commit(call) {
    const q = call.query;
    const container = requiredParam(q, 'container');
    const opts: Parameters<ContainerService['commit']>[1] = { pause: boolParam(q, 'pause', true), changes: q.getAll('changes').filter((c) => c !== '') };
    for (const key of ['repo', 'tag', 'comment', 'author'] as const) {
      const value = stringParam(q, key);
      if (value !== undefined) opts[key] = value;
    }
    const config = parseJsonObject(await readBody(call.req), 'container config');
    if (config !== null) opts.config = config;
    sendJson(call.res, 201, await call.engine.containers.commit(container, opts));
  },
} satisfies Record<string, Handler>;

export const containerAttach: HijackHandler = async (call) => {
  const q = call.query;
  const abort = new AbortController();
  const opts: Parameters<ContainerService['attach']>[1] = {
    stream: boolParam(q, 'stream'), logs: boolParam(q, 'logs'), stdin: boolParam(q, 'stdin'),
    stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), signal: abort.signal,
  };
  const detachKeys = stringParam(q, 'detachKeys');
  if (detachKeys !== undefined) opts.detachKeys = detachKeys;
  const session = await call.engine.containers.attach(call.param, opts);
  const socket = call.conn.takeOver(streamContentType(session.tty, call.version));
  socket.once('close', () => abort.abort());
  await pipeSession(socket, session, call.settings.logger);
};
