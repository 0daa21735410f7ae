/** Image reference helpers for commands that take REPOSITORY[:TAG]. */
import { StatusError } from './errors.js';

/** "repo:tag" -> ["repo", "tag"]; "host:5000/repo" -> ["host:5000/repo", ""]. */
export function splitRepoTag(ref: string): [string, string] {
  const at = ref.indexOf('@');
  if (at >= 0) return [ref.slice(0, at), ''];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, ''];
}

/** docker's reference.ParseNormalizedNamed validation, enough to reject what it rejects. */
export function validateReference(ref: string): string | null {
  const [repo, tag] = splitRepoTag(ref);
  if (repo !== repo.toLowerCase()) return `invalid reference format: repository name (${repo}) must be lowercase`;
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+(([._]|__|[-]*)[a-z0-9]+)*)*$/.test(repo)) return 'invalid reference format';
  if (tag && !/^[\w][\w.-]{0,127}$/.test(tag)) return 'invalid reference format';
  return null;
}

/** The optional REPOSITORY[:TAG] argument of import and commit, checked as docker checks it. */
export function optionalRepoTag(ref: string | undefined): { repo?: string; tag?: string } {
  if (!ref) return {};
  const bad = validateReference(ref);
  if (bad) throw new StatusError(1, bad);
  const [repo, tag] = splitRepoTag(ref);
  return { repo, tag: tag || undefined };
}
