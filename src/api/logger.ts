/** What api/ needs from a logger; daemon/'s logger satisfies it. */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** False lets the hot path skip building debug messages. */
  readonly debugEnabled?: boolean;
}
