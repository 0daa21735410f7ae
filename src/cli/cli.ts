/**
 * What every command gets: the standard streams, the command path for messages ("hako run"),
 * and a connected client. The first call to client() pings the daemon; when the host is the
 * default one and nothing answers, it starts hakod in the background (the embedded default).
 */
import type { Readable, Writable } from 'node:stream';
import type { Client, TlsFlags } from '../client/index.js';

export const DEFAULT_HOST = 'unix:///run/hako/hako.sock';

export interface CliOptions {
  host: string;
  /** True when -H, HAKO_HOST or DOCKER_HOST named the host: then hakod is never started for it. */
  hostExplicit: boolean;
  /** The global --tls* flags (undefined: not given); with the environment, they settle TLS for tcp:// hosts. */
  tls?: TlsFlags;
  /** The global --config directory: the default place of ca.pem, cert.pem, key.pem. */
  configDir?: string;
  /** DOCKER_TLS, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_CONFIG are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  commandPath: string;
  stdin?: Readable & { isTTY?: boolean };
  stdout?: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr?: Writable & { isTTY?: boolean };
}

export class Cli {
  readonly host: string;
  readonly hostExplicit: boolean;
  readonly #tls: { flags: TlsFlags; configDir?: string; env: NodeJS.ProcessEnv };
  readonly commandPath: string;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  readonly stderr: Writable & { isTTY?: boolean };
  #client: Promise<Client> | undefined;
  #ping: Promise<{ client: Client; error?: unknown }> | undefined;

  constructor(opts: CliOptions) {
    this.host = opts.host;
    this.hostExplicit = opts.hostExplicit;
    this.#tls = { flags: opts.tls ?? {}, configDir: opts.configDir, env: opts.env ?? process.env };
    this.commandPath = opts.commandPath;
    this.stdin = opts.stdin ?? process.stdin;
    this.stdout = opts.stdout ?? process.stdout;
    this.stderr = opts.stderr ?? process.stderr;
  }

  out(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * Starts connecting (module load + /_ping) while the command's module is still loading; never
   * starts a daemon, so `--help` or a flag error costs nothing but a ping.
   */
  prefetch(): void {
    // A host or TLS setting the client cannot take rejects here: handled when client() awaits it.
    this.#ping ??= this.#firstPing();
    this.#ping.catch(() => undefined);
  }

  /** A client whose daemon has answered /_ping (starting hakod if the default socket is silent). */
  client(): Promise<Client> {
    this.#client ??= this.#connect();
    return this.#client;
  }

  async #firstPing(): Promise<{ client: Client; error?: unknown }> {
    const { createClient, parseClientHost, resolveClientTls } = await import('../client/index.js');
    // A unix socket never reads certificates, whatever the flags say (as the docker CLI); a host
    // the client cannot take is named before any certificate is looked for.
    const tcp = parseClientHost(this.host).kind === 'tcp';
    const tls = tcp ? resolveClientTls(this.#tls.flags, this.#tls.env, this.#tls.configDir) : undefined;
    const client = createClient({ host: this.host, tls });
    try {
      await client.ping();
      return { client };
    } catch (error) {
      return { client, error };
    }
  }

  async #connect(): Promise<Client> {
    this.prefetch();
    const { client, error } = await (this.#ping as Promise<{ client: Client; error?: unknown }>);
    if (error === undefined) return client;
    const { DaemonUnreachable } = await import('../client/index.js');
    if (!(error instanceof DaemonUnreachable) || this.hostExplicit || this.host !== DEFAULT_HOST) throw error;
    const { startEmbeddedDaemon } = await import('./embedded.js');
    await startEmbeddedDaemon(client);
    return client;
  }

  close(): void {
    void this.#ping?.then((p) => p.client.close(), () => {});
  }
}
