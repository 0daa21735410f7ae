/**
 * Path matching for the Docker Engine API. Tables are built once at module load; a request costs a
 * couple of string slices and Map lookups. Image names hold slashes and colons
 * (`/images/localhost:5000/a/b:tag/json`), so image routes are matched by their last segment.
 */
import { InvalidArgument } from '../errdefs/index.js';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export type RouteKey =
  | 'ping' | 'pingHead' | 'version' | 'info' | 'systemDf' | 'events'
  | 'containerList' | 'containerCreate' | 'containerPrune' | 'containerInspect' | 'containerTop'
  | 'containerLogs' | 'containerChanges' | 'containerExport' | 'containerResize' | 'containerStart'
  | 'containerStop' | 'containerRestart' | 'containerKill' | 'containerUpdate' | 'containerRename'
  | 'containerPause' | 'containerUnpause' | 'containerAttach' | 'containerWait' | 'containerDelete'
  | 'archiveStat' | 'archiveGet' | 'archivePut' | 'execCreate'
  | 'execStart' | 'execResize' | 'execInspect'
  | 'imageList' | 'imageCreate' | 'imageInspect' | 'imageHistory' | 'imageTag' | 'imageDelete'
  | 'imageGetAll' | 'imageGet' | 'imageLoad' | 'imagePrune' | 'commit'
  | 'imagePush' | 'imageSearch' | 'auth'
  | 'volumeList' | 'volumeCreate' | 'volumePrune' | 'volumeInspect' | 'volumeDelete' | 'containerStats'
  | 'build' | 'imageBootstrap' | 'buildPrune'
  | 'networkList' | 'networkCreate' | 'networkPrune' | 'networkInspect' | 'networkDelete' | 'networkConnect' | 'networkDisconnect'
  | 'pluginList' | 'swarmInactive';

export interface RouteMatch {
  key: RouteKey;
  /** The container id/name, exec id or image name in the path ('' when the route has none). */
  param: string;
}

const EXACT = new Map<string, RouteKey>([
  ['GET /_ping', 'ping'],
  ['HEAD /_ping', 'pingHead'],
  ['GET /version', 'version'],
  ['GET /info', 'info'],
  ['GET /system/df', 'systemDf'],
  ['GET /events', 'events'],
  ['POST /auth', 'auth'],
  ['GET /images/search', 'imageSearch'],
  ['GET /containers/json', 'containerList'],
  ['POST /containers/create', 'containerCreate'],
  ['POST /containers/prune', 'containerPrune'],
  ['GET /images/json', 'imageList'],
  ['POST /images/create', 'imageCreate'],
  ['GET /images/get', 'imageGetAll'],
  ['POST /images/load', 'imageLoad'],
  ['POST /images/prune', 'imagePrune'],
  ['POST /commit', 'commit'],
  ['POST /build', 'build'],
  ['POST /build/prune', 'buildPrune'],
  ['POST /hako/images/bootstrap', 'imageBootstrap'],
  ['GET /volumes', 'volumeList'],
  ['POST /volumes/create', 'volumeCreate'],
  ['POST /volumes/prune', 'volumePrune'],
  ['GET /networks', 'networkList'],
  ['POST /networks/create', 'networkCreate'],
  ['POST /networks/prune', 'networkPrune'],
  ['GET /plugins', 'pluginList'],
]);

/** The swarm-mode areas: answered as by a daemon that is not in a swarm (routes/swarm.ts). */
const SWARM_AREAS = new Set(['swarm', 'nodes', 'services', 'tasks', 'secrets', 'configs']);

/** `/containers/{id}/<action>`, keyed by "METHOD action". */
const CONTAINER_ACTIONS = new Map<string, RouteKey>([
  ['GET json', 'containerInspect'],
  ['GET top', 'containerTop'],
  ['GET logs', 'containerLogs'],
  ['GET changes', 'containerChanges'],
  ['GET export', 'containerExport'],
  ['POST resize', 'containerResize'],
  ['POST start', 'containerStart'],
  ['POST stop', 'containerStop'],
  ['POST restart', 'containerRestart'],
  ['POST kill', 'containerKill'],
  ['POST update', 'containerUpdate'],
  ['POST rename', 'containerRename'],
  ['POST pause', 'containerPause'],
  ['POST unpause', 'containerUnpause'],
  ['POST attach', 'containerAttach'],
  ['POST wait', 'containerWait'],
  ['HEAD archive', 'archiveStat'],
  ['GET archive', 'archiveGet'],
  ['PUT archive', 'archivePut'],
  ['POST exec', 'execCreate'],
  ['GET stats', 'containerStats'],
]);

const EXEC_ACTIONS = new Map<string, RouteKey>([
  ['POST start', 'execStart'],
  ['POST resize', 'execResize'],
  ['GET json', 'execInspect'],
]);

const IMAGE_ACTIONS = new Map<string, RouteKey>([
  ['GET json', 'imageInspect'],
  ['GET history', 'imageHistory'],
  ['POST tag', 'imageTag'],
  ['GET get', 'imageGet'],
  ['POST push', 'imagePush'],
]);

/** Routes whose response is a hijacked raw stream (attach, exec start). */
export const HIJACK_ROUTES: ReadonlySet<RouteKey> = new Set<RouteKey>(['containerAttach', 'execStart']);

/** Matches a path without its version prefix; null when nothing matches (Docker answers 404). */
export function matchRoute(method: string, path: string): RouteMatch | null {
  const exact = EXACT.get(`${method} ${path}`);
  if (exact !== undefined) return { key: exact, param: '' };
  if (path.startsWith('/containers/')) return matchIdRoute(method, path.slice(12), CONTAINER_ACTIONS, 'containerDelete');
  if (path.startsWith('/exec/')) return matchIdRoute(method, path.slice(6), EXEC_ACTIONS, null);
  if (path.startsWith('/networks/')) {
    const rest = path.slice(10);
    const slash = rest.indexOf('/');
    if (slash < 0 && rest !== '') {
      if (method === 'GET') return { key: 'networkInspect', param: decodeParam(rest) };
      if (method === 'DELETE') return { key: 'networkDelete', param: decodeParam(rest) };
    } else if (slash > 0 && method === 'POST') {
      const action = rest.slice(slash + 1);
      if (action === 'connect') return { key: 'networkConnect', param: decodeParam(rest.slice(0, slash)) };
      if (action === 'disconnect') return { key: 'networkDisconnect', param: decodeParam(rest.slice(0, slash)) };
    }
    return null;
  }
  if (path.startsWith('/volumes/')) {
    const name = path.slice(9);
    if (name !== '' && !name.includes('/')) {
      if (method === 'GET') return { key: 'volumeInspect', param: decodeParam(name) };
      if (method === 'DELETE') return { key: 'volumeDelete', param: decodeParam(name) };
    }
  }
  if (path.startsWith('/images/')) {
    const rest = path.slice(8);
    const slash = rest.lastIndexOf('/');
    if (slash > 0) {
      const key = IMAGE_ACTIONS.get(`${method} ${rest.slice(slash + 1)}`);
      if (key !== undefined) return { key, param: decodeParam(rest.slice(0, slash)) };
    }
    if (method === 'DELETE' && rest !== '') return { key: 'imageDelete', param: decodeParam(rest) };
  }
  const slash = path.indexOf('/', 1);
  if (SWARM_AREAS.has(slash < 0 ? path.slice(1) : path.slice(1, slash))) return { key: 'swarmInactive', param: '' };
  return null;
}

function matchIdRoute(method: string, rest: string, actions: Map<string, RouteKey>, deleteKey: RouteKey | null): RouteMatch | null {
  const slash = rest.indexOf('/');
  if (slash < 0) {
    if (deleteKey !== null && method === 'DELETE' && rest !== '') return { key: deleteKey, param: decodeParam(rest) };
    return null;
  }
  if (slash === 0) return null;
  const key = actions.get(`${method} ${rest.slice(slash + 1)}`);
  return key === undefined ? null : { key, param: decodeParam(rest.slice(0, slash)) };
}

function decodeParam(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgument(`malformed percent-encoding in path segment "${raw}"`);
  }
}

/**
 * Splits `/v1.47/containers/json` into version "1.47" and path "/containers/json". A path without a
 * prefix gets version null (the server's own version applies).
 */
export function splitVersion(pathname: string): { version: string | null; path: string } {
  if (pathname.length > 2 && pathname.charCodeAt(1) === 118 /* v */ && isDigit(pathname.charCodeAt(2))) {
    const slash = pathname.indexOf('/', 2);
    const version = slash < 0 ? pathname.slice(2) : pathname.slice(2, slash);
    if (/^\d+(\.\d+)*$/.test(version)) return { version, path: slash < 0 ? '/' : pathname.slice(slash) };
  }
  return { version: null, path: pathname };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Compares dotted versions numerically ("1.9" < "1.24"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Docker's version middleware: the same messages, as InvalidArgument (400). */
export function checkVersion(version: string): void {
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new InvalidArgument(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (compareVersions(version, API_VERSION) > 0) {
    throw new InvalidArgument(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
}
