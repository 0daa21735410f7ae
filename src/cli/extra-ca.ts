/**
 * NODE_EXTRA_CA_CERTS and the CLI's start-up. Node reads and parses that file before any code
 * runs (~40 ms for a distribution's CA bundle): a third of a `hako run`, for certificates the CLI
 * never checks (it speaks to hakod over a unix socket). bin/hako's shebang therefore starts node
 * without it and hands the value over as HAKO_NODE_EXTRA_CA_CERTS; this puts it back, so the
 * processes the CLI starts (an auto-started hakod pulls over TLS) see what the user set.
 */
export const HANDED_OVER = 'HAKO_NODE_EXTRA_CA_CERTS';

export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const value = env[HANDED_OVER];
  if (value === undefined) return;
  delete env[HANDED_OVER];
  // The shebang sets the variable even when the user had none: empty means "was not set".
  if (value !== '') env.NODE_EXTRA_CA_CERTS = value;
}
