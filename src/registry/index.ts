/**
 * registry: images over the network. The distribution client — pull (manifests, indexes resolved
 * to a platform, concurrent verified and resumable layer downloads, skipping what is stored),
 * push (stored blobs, cross-repository mounts), login and search — with Docker's bearer-token and
 * Basic auth, https by default and http only where the daemon allows it; and `hako registry
 * serve`, a registry server implementing the distribution spec for pull and push.
 *
 * Left to others: where blobs and images are stored (storage/ and images/, reached through the
 * structural interfaces in deps.ts and wired in daemon/wire.ts), where credentials live (the CLI
 * keeps them in ~/.docker/config.json and sends X-Registry-Auth, as docker does), and HTTP framing
 * of progress (api/).
 */
export { RegistryService, registryHost, type PullRequest, type PushRequest, type SearchResult } from './service.js';
export type { RegistryServiceDeps, ContentLike, ImagesLike } from './deps.js';
export { parseChallenge, isInsecure, DOCKER_HUB_AUTH_KEY, type AuthConfig } from './transport.js';
export { parseManifest, selectManifest, parsePlatform, MT, type Platform, type ImageIndex, type ImageManifest } from './manifest.js';
export { progressBar, humanBytes } from './progress.js';
export { createRegistryServer, type RegistryServer, type RegistryServerOptions } from './server/server.js';
export { bcryptHash, bcryptVerify } from './server/bcrypt.js';
export { LiveDownload } from './blobs.js';
