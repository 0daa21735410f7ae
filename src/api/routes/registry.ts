/**
 * Registry endpoints: POST /images/create?fromImage= (pull), POST /images/{name}/push, POST /auth,
 * GET /images/search. Pull and push answer Docker's JSON progress stream; an error before the
 * first message is the HTTP status, after it an in-band errorDetail (as dockerd).
 */
import type { IncomingMessage } from 'node:http';
import { InvalidArgument } from '../../errdefs/index.js';
import type { RegistryAuth } from '../../engine/contract.js';
import type { Call, Handler } from '../call.js';
import { stringParam } from '../query.js';
import { parseJsonObject, readBody, sendJson, streamProgress } from '../reply.js';

/** The X-Registry-Auth header: base64url JSON of an AuthConfig; absent or empty: anonymous. */
export function registryAuthOf(req: IncomingMessage): RegistryAuth | null {
  const raw = req.headers['x-registry-auth'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return null;
  try {
    const doc = JSON.parse(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? authFields(doc as Record<string, unknown>) : null;
  } catch {
    // dockerd ignores an undecodable header the same way: the request goes out anonymous.
    return null;
  }
}

function authFields(doc: Record<string, unknown>): RegistryAuth {
  const out: RegistryAuth = {};
  for (const k of ['username', 'password', 'auth', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = doc[k] ?? doc[k.charAt(0).toUpperCase() + k.slice(1)];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

/** POST /images/create?fromImage=&tag=&platform= */
export async function pullImage(call: Call): Promise<void> {
  const q = call.query;
  const image = stringParam(q, 'fromImage') ?? '';
  const tag = stringParam(q, 'tag');
  if (image === '') throw new InvalidArgument('query parameter "fromImage" is empty: name the image to pull');
  // The tag parameter may hold a digest (docker pull name@sha256:..).
  const ref = tag === undefined || tag === '' ? image : tag.startsWith('sha256:') ? `${image}@${tag}` : `${image}:${tag}`;
  const platform = stringParam(q, 'platform');
  const auth = registryAuthOf(call.req);
  call.req.resume();
  await streamProgress(call.res, (progress, signal) => call.engine.registry.pull(ref, { ...(platform ? { platform } : {}), auth, progress, signal }));
}

export const registryRoutes = {
  async imagePush(call) {
    const tag = stringParam(call.query, 'tag');
    const auth = registryAuthOf(call.req);
    call.req.resume();
    await streamProgress(call.res, (progress, signal) => call.engine.registry.push(call.param, { ...(tag ? { tag } : {}), auth, progress, signal }));
  },

  async auth(call) {
    const body = parseJsonObject(await readBody(call.req), 'auth config');
    if (body === null) throw new InvalidArgument('POST /auth needs a JSON body: {"username", "password", "serveraddress"}');
    sendJson(call.res, 200, await call.engine.registry.login(authFields(body)));
  },

  async imageSearch(call) {
    const term = stringParam(call.query, 'term') ?? '';
    const limitText = stringParam(call.query, 'limit');
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100)) throw new InvalidArgument(`invalid limit ${limitText}: use 1 to 100`);
    if (stringParam(call.query, 'filters')) {
      throw new InvalidArgument('search filters (is-official, stars) are not supported by hako yet; search without --filter');
    }
    sendJson(call.res, 200, await call.engine.registry.search(term, { ...(limit ? { limit } : {}), auth: registryAuthOf(call.req) }));
  },
} satisfies Record<string, Handler>;
