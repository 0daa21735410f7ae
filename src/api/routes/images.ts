/** /images/...: list, inspect, history, tag, remove, import, load, save, prune. */
import { Transform } from 'node:stream';
import { InvalidArgument, NotImplemented } from '../../errdefs/index.js';
import type { ImageService } from '../../engine/contract.js';
import type { Call, Handler } from '../call.js';
import { boolParam, filtersParam, requiredParam, stringParam } from '../query.js';
import { JsonProgress, sendJson, sendStream } from '../reply.js';
import { humanSize } from '../../units/index.js';
import { pullImage } from './registry.js';

const TAR = 'application/x-tar';
/** How often the "Importing" progress line is refreshed while a rootfs uploads. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * POST /images/create?fromSrc=-: the request body is the rootfs tarball. Progress lines count the
 * bytes read, like dockerd's "Importing" bar; the last line is {"status":"sha256:..."}.
 */
async function importRootfs(call: Call): Promise<void> {
  const q = call.query;
  const opts: Parameters<ImageService['importRootfs']>[1] = { changes: q.getAll('changes').filter((c) => c !== '') };
  for (const key of ['repo', 'tag', 'message', 'platform'] as const) {
    const value = stringParam(q, key);
    if (value !== undefined) opts[key] = value;
  }
  const progress = new JsonProgress(call.res);
  let current = 0;
  let lastSent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      current += chunk.length;
      const now = Date.now();
      if (now - lastSent >= PROGRESS_INTERVAL_MS && !call.res.destroyed) {
        lastSent = now;
        progress.send({ status: 'Importing', progressDetail: { current }, progress: humanSize(current) });
      }
      done(null, chunk);
    },
  });
  call.req.on('error', (err) => counter.destroy(err));
  call.req.pipe(counter);
  try {
    const { Id } = await call.engine.images.importRootfs(counter, opts);
    progress.send({ status: Id });
  } catch (err) {
    if (!progress.started) throw err;
    progress.fail(err instanceof Error ? err.message : String(err));
  }
  progress.end();
}


export const imageRoutes = {
  async imageList(call) {
    const q = call.query;
    sendJson(call.res, 200, await call.engine.images.list({ all: boolParam(q, 'all'), filters: filtersParam(q), digests: boolParam(q, 'digests') }));
  },

  async imageCreate(call) {
    const q = call.query;
    const fromSrc = stringParam(q, 'fromSrc');
    const fromImage = stringParam(q, 'fromImage');
    if (fromSrc === '-') return importRootfs(call);
    if (fromSrc !== undefined) {
      throw new NotImplemented(`importing from the URL ${fromSrc} is not implemented yet; download it and run "docker import <file>"`);
    }
    if (fromImage !== undefined) return pullImage(call);
    throw new InvalidArgument('one of the query parameters "fromImage" or "fromSrc" is required');
  },

  async imageInspect(call) {
    sendJson(call.res, 200, await call.engine.images.inspect(call.param));
  },

  async imageHistory(call) {
    sendJson(call.res, 200, await call.engine.images.history(call.param));
  },

  async imageTag(call) {
    await call.engine.images.tag(call.param, requiredParam(call.query, 'repo'), stringParam(call.query, 'tag'));
    call.res.writeHead(201, { 'Content-Length': 0 }).end();
  },

  async imageDelete(call) {
    const q = call.query;
    sendJson(call.res, 200, await call.engine.images.remove(call.param, { force: boolParam(q, 'force'), noprune: boolParam(q, 'noprune') }));
  },

  async imageGet(call) {
    await sendStream(call.res, await call.engine.images.save([call.param]), TAR);
  },

  async imageGetAll(call) {
    const names = call.query.getAll('names').filter((n) => n !== '');
    if (names.length === 0) throw new InvalidArgument('query parameter "names" is required: name at least one image to save');
    await sendStream(call.res, await call.engine.images.save(names), TAR);
  },

  async imageLoad(call) {
    const lines = await call.engine.images.load(call.req, { quiet: boolParam(call.query, 'quiet') });
    const progress = new JsonProgress(call.res);
    for (const line of lines) progress.send({ stream: line.endsWith('\n') ? line : `${line}\n` });
    progress.end();
  },

  async imagePrune(call) {
    sendJson(call.res, 200, await call.engine.images.prune(filtersParam(call.query)));
  },
} satisfies Record<string, Handler>;
