/** How a command ends other than normally: an exit status and, maybe, a message for stderr. */
export class StatusError extends Error {
  readonly status: number;
  /** Printed to stderr when non-empty. */
  readonly text: string;
  constructor(status: number, text = '') {
    super(text || `exit status ${status}`);
    this.name = 'StatusError';
    this.status = status;
    this.text = text;
  }
}

/** docker's withHelp(): `hako: <err>\n\nRun 'hako run --help' for more information`. */
export function withHelp(message: string, commandPath: string): string {
  return `hako: ${message}\n\nRun '${commandPath} --help' for more information`;
}

/** Whether the daemon answered 404 (no such container, image, network, volume …). */
export function isNotFound(e: unknown): boolean {
  return (e as { status?: number } | null)?.status === 404;
}
