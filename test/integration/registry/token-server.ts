/**
 * A token server for distribution's token auth (docs/spec/auth/token.md): GET ?service&scope
 * with Basic credentials -> {"token": <RS256 JWT>}. The registry trusts the signing key through
 * its rootcertbundle and finds it by the JWT's "kid" (libtrust's key id of the public key).
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { listen } from './helpers.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** libtrust KeyID: base32 of the first 240 bits of sha256(DER public key), in 4-char groups. */
function libtrustKeyId(derPublicKey: Buffer): string {
  const bytes = createHash('sha256').update(derPublicKey).digest().subarray(0, 30);
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let s = '';
  for (let i = 0; i < bits.length; i += 5) s += B32[parseInt(bits.slice(i, i + 5), 2)];
  return (s.match(/.{4}/g) as string[]).join(':');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  rootCert: string;
  /** Scopes asked for, one entry per request; OAuth2 POSTs with their grant_type. */
  requests: Array<{ scope: string[]; user: string | null; method?: string; grant?: string; offline?: boolean }>;
  /** Refresh tokens handed out (user by token), when started with `{ refreshTokens: true }`. */
  refreshTokens: Map<string, string>;
  close(): Promise<void>;
}

/**
 * With `refreshTokens`, the server also speaks docker's OAuth2 variant (distribution's
 * docs/spec/auth/oauth.md): a GET with `offline_token=true&client_id=…` answers a `refresh_token`
 * too, and POST (form) takes grant_type=refresh_token or grant_type=password, answering
 * `access_token` (and a refresh token for access_type=offline).
 */
export async function startTokenServer(dir: string, users: Record<string, string>, opts: { refreshTokens?: boolean } = {}): Promise<TokenServer> {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=hako-test-token'], { stdio: 'ignore' });
  const priv = createPrivateKey(readFileSync(key));
  const kid = libtrustKeyId(createPublicKey(priv).export({ type: 'spki', format: 'der' }));
  const service = 'hako-test-registry';
  const issuer = 'hako-test-issuer';
  const requests: TokenServer['requests'] = [];
  const refreshTokens = new Map<string, string>();
  const jwt = (user: string | null, scopes: string[]): string => {
    // Anonymous users get pull only; known users what they ask for.
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = (rest.pop() ?? '').split(',');
      return { type, name: rest.join(':'), actions: user ? actions : actions.filter((a) => a === 'pull') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid };
    const claims = { iss: issuer, sub: user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), priv))}`;
  };
  const newRefreshToken = (user: string): string => {
    const t = `rt-${randomBytes(12).toString('hex')}`;
    refreshTokens.set(t, user);
    return t;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && opts.refreshTokens) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString());
        const grant = form.get('grant_type') ?? '';
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        let user: string | null = null;
        if (grant === 'refresh_token') user = refreshTokens.get(form.get('refresh_token') ?? '') ?? null;
        else if (grant === 'password' && users[form.get('username') ?? ''] === form.get('password')) user = form.get('username');
        requests.push({ scope: scopes, user, method: 'POST', grant, offline: form.get('access_type') === 'offline' });
        if (user === null || form.get('client_id') === null || form.get('service') !== service) {
          res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
        const body: Record<string, unknown> = { access_token: jwt(user, scopes), expires_in: 300, scope: scopes.join(' ') };
        if (form.get('access_type') === 'offline') body.refresh_token = newRefreshToken(user);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      });
      return;
    }
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    let user: string | null = null;
    if (m) {
      const [u = '', ...p] = Buffer.from(m[1] as string, 'base64').toString().split(':');
      if (users[u] !== p.join(':')) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      user = u;
    }
    const scopes = url.searchParams.getAll('scope');
    const offline = url.searchParams.get('offline_token') === 'true' && url.searchParams.has('client_id');
    requests.push({ scope: scopes, user, method: 'GET', offline });
    const body: Record<string, unknown> = { token: jwt(user, scopes), expires_in: 300 };
    if (opts.refreshTokens && offline && user !== null) body.refresh_token = newRefreshToken(user);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  const port = await listen(server);
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCert: cert, requests, refreshTokens,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
