/**
 * client: a typed Docker Engine API (v1.47) client over the daemon's unix socket or tcp:// (TLS too). It negotiates
 * the API version, turns error answers into ClientError (status + the daemon's message), and
 * offers the streaming helpers the CLI and Compose need: JSON progress lines, multiplexed
 * stdout/stderr frames, and hijacked attach/exec connections. It knows nothing of terminals or
 * output formatting (that is cli/), nor of starting a daemon.
 */
export { Client, createClient, CLIENT_API_VERSION, type ClientOptions } from './client.js';
export { ClientError, DaemonUnreachable, socketPathOf } from './transport.js';
export type { HijackedConnection } from './hijack.js';
export { parseClientHost, resolveClientTls, certDirOf, InvalidHost, DEFAULT_TCP_PORT, DEFAULT_TLS_PORT, type ClientTls, type ClientHost, type TlsFlags } from './remote.js';
export { jsonLines, demultiplex, copyOutput, type ProgressMessage, type Frame, type FrameStream } from './streams.js';
export type * from './types.js';
