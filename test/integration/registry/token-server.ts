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
  /** Scopes asked for, one entry per request. */
  requests: Array<{ scope: string[]; user: string | null }>;
  close(): Promise<void>;
}

export async function startTokenServer(dir: string, users: Record<string, string>): Promise<TokenServer> {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=hako-test-token'], { stdio: 'ignore' });
  const priv = createPrivateKey(readFileSync(key));
  const kid = libtrustKeyId(createPublicKey(priv).export({ type: 'spki', format: 'der' }));
  const service = 'hako-test-registry';
  const issuer = 'hako-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
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
    requests.push({ scope: scopes, user });
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
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), priv))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  const port = await listen(server);
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCert: cert, requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
