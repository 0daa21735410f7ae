/**
 * POST /hako/images/bootstrap?repo=&tag=&suite=&variant=&include=&mirror= (hako's own endpoint):
 * makes a Debian base image with debootstrap on the daemon's host. Refusals found before the
 * first progress line (bad suite, no debootstrap, mirror down) are plain HTTP errors; after that
 * the answer is a JSON progress stream ({stream}, then {aux: {ID}}), errors in-band as errorDetail.
 */
import { NotImplemented } from '../../errdefs/index.js';
import type { Call, Handler } from '../call.js';
import { requiredParam, stringParam } from '../query.js';
import { JsonProgress } from '../reply.js';

async function imageBootstrap(call: Call): Promise<void> {
  const service = call.engine.bootstrap;
  if (!service) throw new NotImplemented('this daemon cannot bootstrap images');
  const q = call.query;
  const repo = requiredParam(q, 'repo');
  const tag = stringParam(q, 'tag');
  const suite = stringParam(q, 'suite');
  const variant = q.get('variant');
  const mirror = stringParam(q, 'mirror');
  const include = q.getAll('include').filter((p) => p !== '');
  const progress = new JsonProgress(call.res);
  const abort = new AbortController();
  const onClose = () => { if (!call.res.writableFinished) abort.abort(new Error('the client disconnected')); };
  call.res.on('close', onClose);
  try {
    const id = await service.bootstrap({
      repo, include, signal: abort.signal,
      ...(tag ? { tag } : {}), ...(suite ? { suite } : {}), ...(variant !== null ? { variant } : {}), ...(mirror ? { mirror } : {}),
    }, (line) => { if (!call.res.destroyed) progress.send({ stream: `${line}\n` }); });
    progress.send({ aux: { ID: id } });
  } catch (err) {
    if (!progress.started) throw err;
    progress.fail(err instanceof Error ? err.message : String(err));
  } finally {
    call.res.off('close', onClose);
  }
  progress.end();
}

export const bootstrapRoutes: Partial<Record<'imageBootstrap', Handler>> = { imageBootstrap };
