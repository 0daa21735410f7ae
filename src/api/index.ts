/**
 * api: the Docker Engine API v1.47 over HTTP (node:http, no framework), on top of the Engine
 * contract (../engine/contract.ts). Owns routing and API version prefixes (1.24..1.47), query
 * and body decoding, the translation of errdefs errors into Docker's `{"message": ...}` replies,
 * hijacked attach/exec streams, multiplexed stdout/stderr frames, and JSON progress streams.
 * Leaves every domain decision to the engine and the listening socket to daemon/.
 */
export { createApiServer, type ApiServerOptions } from './server.js';
export type { Logger } from './logger.js';
export { API_VERSION, MIN_API_VERSION } from './router.js';
