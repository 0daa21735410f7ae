/**
 * `hako registry serve`: the distribution spec (../shared/reference/oci-distribution-spec/spec.md)
 * for pull and push over node:http — /v2/ check, blobs (GET/HEAD with ranges, DELETE), uploads
 * (monolithic POST, chunked PATCH, status, PUT, cancel, cross-repository mount), manifests and
 * indexes by tag or digest (PUT verifies that everything they reference is in the repository),
 * tag lists and the catalog with n/last pagination, deletes. Errors are the spec's
 * {"errors":[{code,message,detail}]}. With an htpasswd file every request needs Basic auth.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Htpasswd } from './htpasswd.js';
import { RegistryStorage } from './storage.js';

export interface RegistryServerOptions {
  /** Directory for the registry's content (created when missing). */
  root: string;
  /** htpasswd file with bcrypt entries; when set, every request must authenticate. */
  htpasswd?: string | undefined;
  /** Largest manifest accepted (default 4 MiB, as distribution). */
  maxManifestBytes?: number;
  log?: (line: string) => void;
}

const NAME = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
]);

class RegistryError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly detail?: unknown) {
    super(message);
  }
}

const err = {
  blobUnknown: (d: string) => new RegistryError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest: d }),
  manifestUnknown: (r: string) => new RegistryError(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { reference: r }),
  nameUnknown: (n: string) => new RegistryError(404, 'NAME_UNKNOWN', 'repository name not known to registry', { name: n }),
  uploadUnknown: () => new RegistryError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry'),
  digestInvalid: (msg: string) => new RegistryError(400, 'DIGEST_INVALID', msg),
  unsupported: (msg: string) => new RegistryError(405, 'UNSUPPORTED', msg),
};

export interface RegistryServer {
  server: http.Server;
  storage: RegistryStorage;
}

export async function createRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const storage = new RegistryStorage(opts.root);
  await storage.init();
  const users = opts.htpasswd ? new Htpasswd(opts.htpasswd) : null;
  const maxManifest = opts.maxManifestBytes ?? 4 * 1024 * 1024;
  const server = http.createServer({ requestTimeout: 0 }, (req, res) => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    handle(req, res).catch((e: unknown) => {
      const re = e instanceof RegistryError ? e : new RegistryError(500, 'UNKNOWN', (e as Error).message ?? String(e));
      if (re.status >= 500) opts.log?.(`${req.method} ${req.url}: ${re.message}`);
      if (res.headersSent) { res.destroy(); return; }
      const body = JSON.stringify({ errors: [{ code: re.code, message: re.message, ...(re.detail !== undefined ? { detail: re.detail } : {}) }] });
      res.writeHead(re.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      req.resume();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (!path.startsWith('/v2')) throw new RegistryError(404, 'NOT_FOUND', 'not found');
    if (users) {
      const h = req.headers.authorization ?? '';
      const m = /^Basic\s+(.+)$/i.exec(h);
      const [user = '', ...pw] = m ? Buffer.from(m[1] as string, 'base64').toString('utf8').split(':') : [];
      if (!m || !users.verify(user, pw.join(':'))) {
        res.setHeader('WWW-Authenticate', 'Basic realm="hako-registry"');
        throw new RegistryError(401, 'UNAUTHORIZED', 'authentication required');
      }
    }
    if (path === '/v2/' || path === '/v2') return json(res, 200, {});
    if (path === '/v2/_catalog') {
      if (method !== 'GET') throw err.unsupported('the catalog is read with GET');
      const { items, next } = page(await storage.repositories(), url);
      if (next) res.setHeader('Link', `</v2/_catalog?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"`);
      return json(res, 200, { repositories: items });
    }
    const m = /^\/v2\/(.+?)\/(tags\/list|manifests\/([^/]+)|blobs\/uploads\/?([^/]*)|blobs\/([^/]+))$/.exec(path);
    if (!m) throw new RegistryError(404, 'NOT_FOUND', `no route for ${path}`);
    const name = m[1] as string;
    if (!NAME.test(name) || name.length > 255) throw new RegistryError(400, 'NAME_INVALID', `invalid repository name "${name}"`);
    if (m[2] === 'tags/list') return tagsList(res, name, url);
    if (m[3] !== undefined) return manifest(req, res, method, name, decodeURIComponent(m[3]));
    if (m[2]?.startsWith('blobs/uploads')) return upload(req, res, method, name, m[4] ?? '', url);
    return blob(req, res, method, name, decodeURIComponent(m[5] as string));
  }

  async function tagsList(res: ServerResponse, name: string, url: URL): Promise<void> {
    const tags = await storage.tags(name);
    if (tags === null) throw err.nameUnknown(name);
    const { items, next } = page(tags, url);
    if (next) res.setHeader('Link', `</v2/${name}/tags/list?n=${next.n}&last=${encodeURIComponent(next.last)}>; rel="next"`);
    json(res, 200, { name, tags: items });
  }

  async function blob(req: IncomingMessage, res: ServerResponse, method: string, name: string, digest: string): Promise<void> {
    if (!DIGEST.test(digest)) throw err.digestInvalid(`invalid digest "${digest}": expected sha256:<64 hex>`);
    if (method === 'DELETE') {
      if (!(await storage.unlink(name, digest))) throw err.blobUnknown(digest);
      res.writeHead(202, { 'Content-Length': 0 }).end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw err.unsupported(`${method} is not supported on blobs`);
    const size = await storage.repoBlob(name, digest);
    if (size === null) throw err.blobUnknown(digest);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes', ETag: `"${digest}"`,
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && method === 'GET') {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 }).end();
        return;
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
    res.writeHead(status, headers);
    if (method === 'HEAD' || size === 0) { res.end(); return; }
    const file = createReadStream(storage.blobPath(digest), { start, end });
    file.on('error', () => res.destroy());
    res.on('close', () => file.destroy());
    file.pipe(res);
  }

  async function upload(req: IncomingMessage, res: ServerResponse, method: string, name: string, id: string, url: URL): Promise<void> {
    const location = (uid: string) => `/v2/${name}/blobs/uploads/${uid}`;
    if (id === '') {
      if (method !== 'POST') throw err.unsupported(`${method} is not supported on ${url.pathname}`);
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from) {
        if (DIGEST.test(mount) && NAME.test(from) && (await storage.repoBlob(from, mount)) !== null) {
          await storage.link(name, mount);
          req.resume();
          res.writeHead(201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount, 'Content-Length': 0 }).end();
          return;
        }
        // Not mountable: start an ordinary upload, as the spec says.
      }
      const uid = await storage.startUpload(name);
      const digest = url.searchParams.get('digest');
      if (digest) {
        // Monolithic upload: the whole blob in the POST body.
        if (!DIGEST.test(digest)) { await storage.cancelUpload(uid); throw err.digestInvalid(`invalid digest "${digest}"`); }
        await storage.appendUpload(uid, req);
        return finish(res, name, uid, digest);
      }
      req.resume();
      res.writeHead(202, { Location: location(uid), Range: '0-0', 'Docker-Upload-UUID': uid, 'Content-Length': 0 }).end();
      return;
    }
    const size = await storage.uploadSize(name, id);
    if (size === null) throw err.uploadUnknown();
    const rangeHeader = (n: number) => (n === 0 ? '0-0' : `0-${n - 1}`);
    switch (method) {
      case 'GET':
        res.writeHead(204, { Location: location(id), Range: rangeHeader(size), 'Docker-Upload-UUID': id, 'Content-Length': 0 }).end();
        return;
      case 'DELETE':
        await storage.cancelUpload(id);
        req.resume();
        res.writeHead(204, { 'Content-Length': 0 }).end();
        return;
      case 'PATCH': {
        const cr = /^(\d+)-(\d+)$/.exec(req.headers['content-range'] ?? '');
        if (cr && Number(cr[1]) !== size) {
          req.resume();
          res.writeHead(416, { Location: location(id), Range: rangeHeader(size), 'Content-Length': 0 }).end();
          return;
        }
        const now = await storage.appendUpload(id, req);
        res.writeHead(202, { Location: location(id), Range: rangeHeader(now), 'Docker-Upload-UUID': id, 'Content-Length': 0 }).end();
        return;
      }
      case 'PUT': {
        const digest = url.searchParams.get('digest') ?? '';
        if (!DIGEST.test(digest)) { req.resume(); throw err.digestInvalid(`the upload must be closed with ?digest=sha256:<hex>, got "${digest}"`); }
        await storage.appendUpload(id, req);
        return finish(res, name, id, digest);
      }
      default:
        throw err.unsupported(`${method} is not supported on uploads`);
    }
  }

  async function finish(res: ServerResponse, name: string, id: string, digest: string): Promise<void> {
    const { ok, actual } = await storage.finishUpload(name, id, digest);
    if (!ok) {
      await storage.cancelUpload(id);
      throw err.digestInvalid(`provided digest ${digest} did not match uploaded content (${actual})`);
    }
    res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 }).end();
  }

  async function manifest(req: IncomingMessage, res: ServerResponse, method: string, name: string, reference: string): Promise<void> {
    const byDigest = reference.startsWith('sha256:');
    if (byDigest ? !DIGEST.test(reference) : !TAG.test(reference)) {
      req.resume();
      throw new RegistryError(400, byDigest ? 'DIGEST_INVALID' : 'TAG_INVALID', `invalid manifest reference "${reference}"`);
    }
    if (method === 'PUT') return putManifest(req, res, name, reference, byDigest);
    if (method === 'DELETE') {
      const ok = byDigest ? await storage.deleteManifest(name, reference) : await storage.deleteTag(name, reference);
      if (!ok) throw err.manifestUnknown(reference);
      res.writeHead(202, { 'Content-Length': 0 }).end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw err.unsupported(`${method} is not supported on manifests`);
    const digest = byDigest ? reference : await storage.resolveTag(name, reference);
    const found = digest ? await storage.manifest(name, digest) : null;
    if (!digest || !found) throw err.manifestUnknown(reference);
    res.writeHead(200, { 'Content-Type': found.mediaType, 'Docker-Content-Digest': digest, 'Content-Length': found.bytes.length, ETag: `"${digest}"` });
    res.end(method === 'HEAD' ? undefined : found.bytes);
  }

  async function putManifest(req: IncomingMessage, res: ServerResponse, name: string, reference: string, byDigest: boolean): Promise<void> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > maxManifest) throw new RegistryError(413, 'SIZE_INVALID', `manifest larger than ${maxManifest} bytes`);
      chunks.push(c);
    }
    const bytes = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (byDigest && digest !== reference) throw err.digestInvalid(`manifest digest ${digest} does not match the reference ${reference}`);
    let doc: { mediaType?: string; config?: { digest?: string }; layers?: Array<{ digest?: string }>; manifests?: Array<{ digest?: string }> };
    try {
      doc = JSON.parse(bytes.toString('utf8')) as typeof doc;
    } catch (e) {
      throw new RegistryError(400, 'MANIFEST_INVALID', `manifest invalid: ${(e as Error).message}`);
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const mediaType = typeof doc.mediaType === 'string' && doc.mediaType !== '' ? doc.mediaType
      : MANIFEST_TYPES.has(contentType) ? contentType
      : Array.isArray(doc.manifests) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    if (!MANIFEST_TYPES.has(mediaType)) throw new RegistryError(400, 'MANIFEST_INVALID', `unsupported manifest media type "${mediaType}"`);
    const isIndex = mediaType.includes('index') || mediaType.includes('list');
    if (isIndex) {
      if (!Array.isArray(doc.manifests)) throw new RegistryError(400, 'MANIFEST_INVALID', 'manifest invalid: an index needs a "manifests" list');
      for (const d of doc.manifests) {
        if (typeof d?.digest !== 'string' || !DIGEST.test(d.digest) || !(await storage.hasManifest(name, d.digest))) {
          throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', 'manifest blob unknown to registry', { digest: d?.digest });
        }
      }
    } else {
      if (!doc.config || !Array.isArray(doc.layers)) throw new RegistryError(400, 'MANIFEST_INVALID', 'manifest invalid: it needs "config" and "layers"');
      for (const d of [doc.config, ...doc.layers]) {
        if (typeof d?.digest !== 'string' || !DIGEST.test(d.digest) || (await storage.repoBlob(name, d.digest)) === null) {
          throw new RegistryError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: d?.digest });
        }
      }
    }
    await storage.putManifest(name, digest, bytes, mediaType, byDigest ? null : reference);
    res.writeHead(201, { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 }).end();
  }

  return { server, storage };
}

/** n/last pagination of a sorted list (spec "Listing Tags"). */
function page(all: string[], url: URL): { items: string[]; next: { n: number; last: string } | null } {
  const last = url.searchParams.get('last');
  const nText = url.searchParams.get('n');
  let items = last ? all.filter((t) => t > last) : all;
  if (nText !== null) {
    const n = Number(nText);
    if (!Number.isInteger(n) || n < 0) throw new RegistryError(400, 'PAGINATION_NUMBER_INVALID', `invalid number of results requested: ${nText}`);
    if (items.length > n) {
      items = items.slice(0, n);
      return { items, next: n > 0 ? { n, last: items[items.length - 1] as string } : null };
    }
  }
  return { items, next: null };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
