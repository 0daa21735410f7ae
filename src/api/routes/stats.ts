/** GET /containers/{id}/stats: one JSON object, or one per second (stream=true, the default). */
import type { Handler } from '../call.js';
import { InvalidArgument } from '../../errdefs/index.js';
import { boolParam } from '../query.js';
import { drainOf, sendJson } from '../reply.js';

export const statsRoutes = {
  async containerStats(call) {
    const stream = boolParam(call.query, 'stream', true);
    const oneShot = boolParam(call.query, 'one-shot');
    if (oneShot && stream) throw new InvalidArgument('cannot have stream=true and one-shot=true');
    const abort = new AbortController();
    call.res.once('close', () => abort.abort());
    const samples = await call.engine.stats.container(call.param, { stream, oneShot, signal: abort.signal });
    if (!stream) {
      for await (const s of samples) return sendJson(call.res, 200, s);
      return sendJson(call.res, 200, {});
    }
    call.res.writeHead(200, { 'Content-Type': 'application/json' });
    call.res.flushHeaders();
    try {
      for await (const s of samples) {
        if (!call.res.write(`${JSON.stringify(s)}\n`)) await drainOf(call.res);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    call.res.end();
  },
} satisfies Record<string, Handler>;
