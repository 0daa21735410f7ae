/**
 * What hako answers where a daemon outside a swarm answers (hako has no swarm mode, and no
 * managed plugins): `GET /plugins` lists none; `/swarm`, `/nodes`, `/services`, `/tasks`,
 * `/secrets` and `/configs` answer 503 with dockerd's own message, which SDKs show as it is
 * (docker-py's `client.swarm`, dockerode's `listServices`); `swarm init`/`join` are refused.
 */
import { NotImplemented, Unavailable } from '../../errdefs/index.js';
import type { Call, Handler } from '../call.js';
import { sendJson } from '../reply.js';

/** dockerd's errNoSwarm, word for word. */
const NO_SWARM = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export const swarmRoutes = {
  pluginList(call: Call) {
    sendJson(call.res, 200, []);
  },
  swarmInactive(call: Call) {
    const path = call.req.url ?? '';
    if (call.req.method === 'POST' && /\/swarm\/(init|join)(\?|$)/.test(path)) {
      throw new NotImplemented('swarm mode is not supported by hako: run services with `hako compose` instead');
    }
    throw new Unavailable(NO_SWARM);
  },
} satisfies Record<string, Handler>;
