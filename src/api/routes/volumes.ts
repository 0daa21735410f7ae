/** /volumes...: create, list, inspect, remove, prune (Docker Engine API v1.47 "Volume"). */
import type { Handler } from '../call.js';
import { boolParam, filtersParam } from '../query.js';
import { parseJsonObject, readBody, sendEmpty, sendJson } from '../reply.js';
import { compareVersions } from '../router.js';

export const volumeRoutes = {
  async volumeList(call) {
    sendJson(call.res, 200, await call.engine.volumes.list({ filters: filtersParam(call.query) }));
  },

  async volumeCreate(call) {
    const body = parseJsonObject(await readBody(call.req), 'volume config') ?? {};
    sendJson(call.res, 201, await call.engine.volumes.create(body));
  },

  async volumeInspect(call) {
    sendJson(call.res, 200, await call.engine.volumes.inspect(call.param));
  },

  async volumeDelete(call) {
    await call.engine.volumes.remove(call.param, { force: boolParam(call.query, 'force') });
    sendEmpty(call.res, 204);
  },

  async volumePrune(call) {
    const filters = filtersParam(call.query);
    // Before API 1.42 prune removed named volumes too; since then only anonymous ones unless all=true.
    if (compareVersions(call.version, '1.42') < 0 && !filters.all) filters.all = ['true'];
    sendJson(call.res, 200, await call.engine.volumes.prune(filters));
  },
} satisfies Record<string, Handler>;
