/**
 * hakod's logger: level-filtered, one logfmt line per event on stderr, like dockerd's
 * `time="..." level=info msg="..."`. No dependency; debug lines cost nothing when filtered out.
 */
import type { Writable } from 'node:stream';
import { LOG_LEVELS, type LogLevel } from './config.js';

export interface DaemonLogger {
  readonly level: LogLevel;
  readonly debugEnabled: boolean;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function createLogger(opts: { level: LogLevel; out?: Writable; now?: () => Date }): DaemonLogger {
  const out = opts.out ?? process.stderr;
  const now = opts.now ?? (() => new Date());
  const threshold = LOG_LEVELS.indexOf(opts.level);
  const emit = (level: LogLevel) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return () => {};
    const label = level === 'warn' ? 'warning' : level;
    return (msg: string) => {
      out.write(`time="${now().toISOString()}" level=${label} msg=${JSON.stringify(msg)}\n`);
    };
  };
  return {
    level: opts.level,
    debugEnabled: threshold === 0,
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
  };
}
