/** /_ping, /version, /info, /system/df. */
import type { Call, Handler } from '../call.js';
import { sendJson } from '../reply.js';
import { API_VERSION, MIN_API_VERSION } from '../router.js';

function ping(call: Call, withBody: boolean): void {
  call.res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': withBody ? 2 : 0,
    'Builder-Version': call.settings.builderVersion,
    'Docker-Experimental': 'false',
    Swarm: 'inactive',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
  });
  call.res.end(withBody ? 'OK' : undefined);
}

export const systemRoutes = {
  ping: (call) => ping(call, true),
  pingHead: (call) => ping(call, false),
  version(call) {
    sendJson(call.res, 200, { ...call.engine.system.version(), ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION });
  },
  async info(call) {
    sendJson(call.res, 200, await call.engine.system.info());
  },
  async systemDf(call) {
    sendJson(call.res, 200, await call.engine.system.df());
  },
} satisfies Record<string, Handler>;
