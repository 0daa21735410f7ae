/**
 * logs: container logs as `docker logs` shows them. conmon writes each container's stdout/stderr
 * to a file in the kubernetes "k8s-file" format (one record per line:
 * `<RFC3339Nano> <stdout|stderr> <P|F> <bytes>`); this subsystem reads those files (tail, since,
 * until, stream filter, follow across rotations), rotates them by size for
 * `--log-opt max-size/max-file`, and validates log options.
 *
 * Left to others: starting conmon with `--log-path` and writing "2 0 0\n" (reopen logs) to its
 * ctl fifo (runtime/, called through the rotator's `reopen`), resolving `stopWhen` when the
 * container exits and framing entries for the API (engine/, api/).
 */

export { readLogs, readLogBatches, type LogFiles, type ReadLogsOptions } from './reader.js';
export { createLogRotator, logFiles, type LogRotator, type LogRotatorOptions } from './rotate.js';
export { parseLogOpts, type LogConfig } from './options.js';
export { encodeRecords, type LogEntry, type LogStream } from './record.js';
