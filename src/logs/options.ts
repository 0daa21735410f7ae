/**
 * `--log-driver` / `--log-opt` validation with docker's rules and messages
 * (moby daemon/logger/factory.go ValidateLogOpts, jsonfilelog.New and ValidateLogOpt).
 */

import { InvalidArgument, NotImplemented } from '../errdefs/index.js';
import { fromHumanSize } from '../units/index.js';

export interface LogConfig {
  /** 'json-file' is docker's default; hako stores it in conmon's k8s-file format. */
  driver: 'json-file' | 'none';
  /** Bytes before rotation; -1 = never rotate (docker's default). */
  maxSize: number;
  /** Files kept including the current one; docker's default is 1. */
  maxFiles: number;
  /** Options docker accepts that hako keeps but does not act on (e.g. `labels`, `tag`). */
  warnings: string[];
}

/** Drivers docker ships that hako does not implement: an honest 501, not "unknown driver". */
const DOCKER_DRIVERS = new Set(['local', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'etwlogs', 'gcplogs', 'logentries']);
/** Options every docker driver accepts (logger.AttrEnv … AttrLogTag; mode, max-buffer-size). */
const COMMON_OPTS = new Set(['env', 'env-regex', 'labels', 'labels-regex', 'tag', 'mode', 'max-buffer-size']);

/** Validates a container's log configuration; throws InvalidArgument with docker's wording. */
export function parseLogOpts(driver: string | undefined, opts: Record<string, string> = {}): LogConfig {
  const name = driver === undefined || driver === '' ? 'json-file' : driver;
  if (name === 'none') return { driver: 'none', maxSize: -1, maxFiles: 1, warnings: [] };
  if (name !== 'json-file') {
    if (DOCKER_DRIVERS.has(name)) {
      throw new NotImplemented(`log driver "${name}" is not supported by hako: use "json-file" or "none"`);
    }
    throw new InvalidArgument(`logger: no log driver named '${name}' is registered`);
  }
  const config: LogConfig = { driver: 'json-file', maxSize: -1, maxFiles: 1, warnings: [] };
  let compress = false;
  for (const [key, value] of Object.entries(opts)) {
    switch (key) {
      case 'max-size': {
        let size: number;
        try {
          size = fromHumanSize(value);
        } catch (err) {
          throw new InvalidArgument(`invalid value for max-size "${value}": ${(err as Error).message} (use a number with k, m or g, e.g. 10m)`);
        }
        if (size <= 0) throw new InvalidArgument('max-size must be a positive number');
        config.maxSize = size;
        break;
      }
      case 'max-file': {
        if (!/^[+-]?\d+$/.test(value)) {
          throw new InvalidArgument(`invalid value for max-file "${value}": strconv.Atoi: parsing "${value}": invalid syntax`);
        }
        const n = Number(value);
        if (n < 1) throw new InvalidArgument('max-file cannot be less than 1');
        config.maxFiles = n;
        break;
      }
      case 'compress':
        if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) {
          throw new InvalidArgument(`invalid value for compress "${value}": strconv.ParseBool: parsing "${value}": invalid syntax`);
        }
        compress = /^(1|t|T|TRUE|true|True)$/.test(value);
        break;
      case 'mode':
        if (value !== '' && value !== 'blocking' && value !== 'non-blocking') {
          throw new InvalidArgument(`logger: logging mode not supported: ${value}`);
        }
        config.warnings.push(`log-opt ${key} is accepted but hako always logs through conmon`);
        break;
      default:
        if (!COMMON_OPTS.has(key)) throw new InvalidArgument(`unknown log opt '${key}' for json-file log driver`);
        config.warnings.push(`log-opt ${key} is accepted but not used by hako's json-file logs`);
    }
  }
  if (compress) {
    if (config.maxFiles === 1 || config.maxSize === -1) {
      throw new InvalidArgument('compress cannot be true when max-file is less than 2 or max-size is not set');
    }
    throw new NotImplemented('log-opt compress=true is not supported by hako yet: remove it to keep rotated logs uncompressed');
  }
  return config;
}
