/** /networks...: list, inspect, create, remove, connect, disconnect, prune (API v1.47 "Network"). */
import { InvalidArgument } from '../../errdefs/index.js';
import type { Handler } from '../call.js';
import { filtersParam } from '../query.js';
import { parseJsonObject, readBody, sendEmpty, sendJson } from '../reply.js';

export const networkRoutes = {
  async networkList(call) {
    sendJson(call.res, 200, await call.engine.networks.list(filtersParam(call.query)));
  },

  async networkInspect(call) {
    sendJson(call.res, 200, await call.engine.networks.inspect(call.param));
  },

  async networkCreate(call) {
    const body = parseJsonObject(await readBody(call.req), 'network config');
    if (body === null) throw new InvalidArgument('network config is required');
    sendJson(call.res, 201, await call.engine.networks.create(body));
  },

  async networkDelete(call) {
    await call.engine.networks.remove(call.param);
    sendEmpty(call.res, 204);
  },

  async networkConnect(call) {
    const body = parseJsonObject(await readBody(call.req), 'network connect request') ?? {};
    await call.engine.networks.connect(call.param, body);
    sendEmpty(call.res, 200);
  },

  async networkDisconnect(call) {
    const body = parseJsonObject(await readBody(call.req), 'network disconnect request') ?? {};
    await call.engine.networks.disconnect(call.param, body);
    sendEmpty(call.res, 200);
  },

  async networkPrune(call) {
    sendJson(call.res, 200, await call.engine.networks.prune(filtersParam(call.query)));
  },
} satisfies Record<string, Handler>;
