/**
 * Image references as the distribution project defines them
 * (github.com/distribution/reference, grammar in its reference.go):
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain '/'] remote-name
 *   domain    := host [':' port]      host := domain-name | '[' IPv6 ']'
 *   path-component := [a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )*
 *   tag       := [\w][\w.-]{0,127}
 *   digest    := algorithm ':' hex{32,}
 *
 * plus Docker's normalisation: a first component is a registry domain only when it contains '.'
 * or ':', is 'localhost', or has an upper-case letter; otherwise the name lives on docker.io, and
 * a one-component name there is under library/. Error messages are Docker's own wording.
 */
import { InvalidArgument } from '../errdefs/index.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const FULL_ID_RE = /^[a-f0-9]{64}$/;
const SHORT_ID_RE = /^(?:sha256:)?[a-f0-9]{1,64}$/;

/** A parsed, normalised reference. */
export interface Reference {
  /** Registry host (and port): "docker.io", "localhost:5000". */
  domain: string;
  /** Repository path under the domain: "library/nginx". */
  path: string;
  /** Tag, or null when none was given (see `withDefaultTag`). */
  tag: string | null;
  /** "sha256:<hex>", or null. */
  digest: string | null;
}

const formatError = (detail?: string): InvalidArgument =>
  new InvalidArgument(detail ? `invalid reference format: ${detail}` : 'invalid reference format');

/**
 * Parses a user-supplied reference the way `docker` does (ParseNormalizedNamed). Throws
 * InvalidArgument with Docker's messages.
 */
export function parseReference(input: string): Reference {
  if (input === '') throw formatError();
  if (FULL_ID_RE.test(input)) {
    throw new InvalidArgument(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDomain(input);
  // Docker checks the case of the repository (before any tag) first, to give the precise message.
  const colon = remainder.indexOf(':');
  const at = remainder.indexOf('@');
  const cut = Math.min(colon < 0 ? Infinity : colon, at < 0 ? Infinity : at);
  const remoteName = cut === Infinity ? remainder : remainder.slice(0, cut);
  if (remoteName.toLowerCase() !== remoteName) {
    throw formatError(`repository name (${remoteName}) must be lowercase`);
  }

  let rest = remainder;
  let digest: string | null = null;
  const atIdx = rest.indexOf('@');
  if (atIdx >= 0) {
    digest = rest.slice(atIdx + 1);
    rest = rest.slice(0, atIdx);
    validateDigest(digest);
  }
  let tag: string | null = null;
  const tagIdx = rest.lastIndexOf(':');
  if (tagIdx >= 0) {
    tag = rest.slice(tagIdx + 1);
    rest = rest.slice(0, tagIdx);
    if (!TAG_RE.test(tag)) throw formatError();
  }
  if (rest === '' || !rest.split('/').every((c) => PATH_COMPONENT_RE.test(c))) throw formatError();
  if (!DOMAIN_RE.test(domain)) throw formatError();
  if (domain.length + 1 + rest.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidArgument(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  return { domain, path: rest, tag, digest };
}

/** Docker's splitDockerDomain: decides whether the first component names a registry. */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function validateDigest(digest: string): void {
  if (!DIGEST_RE.test(digest)) throw formatError();
  const [algo, hex = ''] = digest.split(':');
  if (algo === 'sha256') {
    if (hex.length !== 64) throw new InvalidArgument('invalid checksum digest length');
    if (!/^[a-f0-9]+$/.test(hex)) throw new InvalidArgument('invalid checksum digest format');
  } else {
    throw new InvalidArgument('unsupported digest algorithm');
  }
}

/** The reference with "latest" when it has neither tag nor digest (Docker's TagNameOnly). */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === null && ref.digest === null ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** Fully-qualified repository name: "docker.io/library/nginx". */
export function fullName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** Familiar repository name, as `docker images` shows it: "nginx", "me/app", "localhost:5000/app". */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !ref.path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return ref.path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  return ref.path;
}

/** Familiar string with whatever tag/digest the reference carries: "nginx:latest", "nginx@sha256:..". */
export function familiarString(ref: Reference): string {
  return familiarName(ref) + (ref.tag !== null ? `:${ref.tag}` : '') + (ref.digest !== null ? `@${ref.digest}` : '');
}

/** "name:tag" in familiar form, defaulting the tag: `nginx` -> "nginx:latest". */
export function familiarTagged(input: string): string {
  const ref = parseReference(input);
  if (ref.digest !== null) throw formatError();
  return `${familiarName(ref)}:${ref.tag ?? DEFAULT_TAG}`;
}

/** Fully-qualified string: "docker.io/library/nginx:latest". */
export function fullString(ref: Reference): string {
  return fullName(ref) + (ref.tag !== null ? `:${ref.tag}` : '') + (ref.digest !== null ? `@${ref.digest}` : '');
}

/** Is `s` a full image id: "sha256:<64 hex>" or 64 hex? */
export function isFullImageId(s: string): boolean {
  return FULL_ID_RE.test(s.startsWith('sha256:') ? s.slice(7) : s);
}

/** Could `s` be an (abbreviated) image id: hex, optionally prefixed by "sha256:"? */
export function isImageIdPrefix(s: string): boolean {
  return SHORT_ID_RE.test(s);
}

/** The 12-hex short form Docker prints for ids: "sha256:abcd..." -> "abcd...". */
export function shortId(id: string): string {
  return (id.startsWith('sha256:') ? id.slice(7) : id).slice(0, 12);
}

/** Validates a tag on its own (the `tag` argument of POST /images/{name}/tag). */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
