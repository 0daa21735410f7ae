/**
 * Registry credentials kept as the docker CLI keeps them: `auths` in $DOCKER_CONFIG/config.json
 * (default ~/.docker/config.json), keyed by registry host ("https://index.docker.io/v1/" for
 * Docker Hub), each `{"auth": base64("user:password")}`. hako and docker share the file, so a
 * `docker login` serves `hako push` and the other way round. Credential helpers (credsStore,
 * credHelpers) are not run: hako says so instead of silently ignoring them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
  /** An OAuth2 refresh token a token server gave at login (docker keeps it instead of the password). */
  identitytoken?: string;
}

export function configDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

function configPath(): string {
  return join(configDir(), 'config.json');
}

function readConfig(): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(configPath(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch { /* reported below */ }
  throw new Error(`${configPath()} is not a valid JSON object; fix or remove it`);
}

function writeConfig(doc: Record<string, unknown>): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const temp = `${configPath()}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  renameSync(temp, configPath());
}

/** The registry host of an image reference, Docker's rule: the first component if it has '.' or ':' or is localhost. */
export function registryOfImage(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = ref.slice(0, slash);
  if (!/[.:]/.test(first) && first !== 'localhost' && first === first.toLowerCase()) return 'docker.io';
  return first === 'index.docker.io' || first === 'registry-1.docker.io' ? 'docker.io' : first;
}

/** The config.json key of a registry: "docker.io" -> "https://index.docker.io/v1/", else the host. */
export function authKey(server: string): string {
  const host = server.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return host === '' || host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB_KEY : host;
}

/** Stored credentials for a registry, or null. */
export function lookup(server: string): Credentials | null {
  const key = authKey(server);
  const auths = (readConfig().auths ?? {}) as Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  const entry = auths[key] ?? auths[`https://${key}`] ?? auths[`http://${key}`];
  if (!entry) return null;
  const token = entry.identitytoken ? { identitytoken: entry.identitytoken } : {};
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return null;
    return { username: text.slice(0, colon), password: text.slice(colon + 1), serveraddress: key, ...token };
  }
  if (entry.username || entry.identitytoken) return { username: entry.username ?? '', password: entry.password ?? '', serveraddress: key, ...token };
  return null;
}

/** A warning when config.json names a credential helper hako does not run; null otherwise. */
export function helperWarning(server: string): string | null {
  const doc = readConfig();
  const helpers = (doc.credHelpers ?? {}) as Record<string, string>;
  const helper = helpers[authKey(server)] ?? (typeof doc.credsStore === 'string' ? doc.credsStore : undefined);
  return helper ? `WARNING: ${configPath()} names the credential helper "docker-credential-${helper}", which hako does not run; credentials are kept in config.json instead` : null;
}

/**
 * Keeps a login. With an identity token (the token server's refresh token) docker stores it and
 * an empty password: `{"auth": base64("user:"), "identitytoken": "…"}`.
 */
export function store(server: string, username: string, password: string, identitytoken?: string): string {
  const doc = readConfig();
  const auths = (doc.auths ?? {}) as Record<string, unknown>;
  auths[authKey(server)] = identitytoken
    ? { auth: Buffer.from(`${username}:`).toString('base64'), identitytoken }
    : { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  doc.auths = auths;
  writeConfig(doc);
  return configPath();
}

/** Removes stored credentials; false when there were none. */
export function erase(server: string): boolean {
  const doc = readConfig();
  const auths = (doc.auths ?? {}) as Record<string, unknown>;
  const key = authKey(server);
  const keys = [key, `https://${key}`, `http://${key}`].filter((k) => k in auths);
  if (keys.length === 0) return false;
  for (const k of keys) delete auths[k];
  doc.auths = auths;
  writeConfig(doc);
  return true;
}

/** The X-Registry-Auth header value for an image reference: base64url JSON, "e30=" ({}) when none. */
export function registryAuthHeader(imageRef: string): string {
  const creds = lookup(registryOfImage(imageRef));
  return creds ? Buffer.from(JSON.stringify(creds)).toString('base64url') : 'e30=';
}
