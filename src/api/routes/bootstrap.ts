/**
 * POST /hako/images/bootstrap?repo=&tag=&suite=&variant=&include=&mirror= (hako's own endpoint):
 * makes a Debian base image with debootstrap on the daemon's host. Refusals found before the
 * first progress line (bad suite, no debootstrap, mirror down) are plain HTTP errors; after that
 * the answer is a JSON progress stream ({stream}, then {aux: {ID}}), errors in-band as errorDetail.
 */
import { NotImplemented } from '../../errdefs/index.js';
import type { Call, Handler } from '../call.js';
import { requiredParam, stringParam } from '../query.js';
import { streamProgress } from '../reply.js';

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
  await streamProgress(call.res, async (progress, signal) => {
    const id = await service.bootstrap({
      repo, include, signal,
      ...(tag ? { tag } : {}), ...(suite ? { suite } : {}), ...(variant !== null ? { variant } : {}), ...(mirror ? { mirror } : {}),
    }, (line) => progress({ stream: `${line}\n` }));
    progress({ aux: { ID: id } });
  });
}

export const bootstrapRoutes: Partial<Record<'imageBootstrap', Handler>> = { imageBootstrap };
