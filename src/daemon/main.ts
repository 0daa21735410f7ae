/**
 * hakod: reads flags and the config file, builds the engine (./wire.js, the composition root),
 * serves the Docker Engine API on every -H socket, and on SIGTERM/SIGINT stops serving and stops
 * the running containers gracefully (their stop signal, then SIGKILL after their timeout) —
 * unless live-restore is set: then they live on under conmon and are restored by the next start.
 * The API server and the engine load in parallel with the socket preparation, to answer soon.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { isHakoError } from '../errdefs/index.js';
import { DEFAULTS, parseFlags, parseHost, resolveConfig, USAGE, type DaemonConfig } from './config.js';
import { createLogger, type DaemonLogger } from './logger.js';
import { removePidfile, writePidfile } from './pidfile.js';

/** How long closing the API and the engine may take besides stopping containers. */
const SHUTDOWN_GRACE_MS = 10_000;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'dev';
  } catch {
    return 'dev';
  }
}

async function loadConfig(argv: string[]): Promise<{ config: DaemonConfig; warnings: string[] } | null> {
  const flags = parseFlags(argv);
  if (flags.help) {
    process.stdout.write(USAGE);
    return null;
  }
  if (flags.version) {
    process.stdout.write(`hakod version ${packageVersion()}\n`);
    return null;
  }
  const fileName = flags.configFile ?? DEFAULTS.configFile;
  let text: string | null = null;
  try {
    text = await readFile(fileName, 'utf8');
  } catch (err) {
    // The default file is optional; a file named on the command line must exist.
    if (flags.configFile !== undefined || (err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read configuration file ${fileName}: ${(err as Error).message}`);
    }
  }
  return resolveConfig(flags, text, fileName);
}

async function run(config: DaemonConfig, logger: DaemonLogger): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  let graceMs = (): number => SHUTDOWN_GRACE_MS;
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err: Error) => logger.warn(`cleanup: ${err.message}`));
  };
  try {
    await Promise.all([mkdir(config.dataRoot, { recursive: true, mode: 0o711 }), mkdir(config.execRoot, { recursive: true, mode: 0o711 })]);
    await writePidfile(config.pidfile);
    cleanups.push(() => removePidfile(config.pidfile));

    // Refuse a socket another daemon answers on before the engine touches the data root; load
    // the API and the composition root meanwhile.
    const [{ createApiServer }, { listenOn, clearStaleSocket, loadServerTls, insecureHostWarning }, wire] = await Promise.all([
      import('../api/index.js'),
      import('./listen.js'),
      import('./wire.js'),
    ]);
    await Promise.all(config.hosts.map((host) => {
      const address = parseHost(host);
      return address.kind === 'unix' ? clearStaleSocket(address.path) : undefined;
    }));
    const serverTls = await loadServerTls(config.tls);
    const built = await wire.buildEngine(config, logger);
    cleanups.push(() => built.close());
    graceMs = () => {
      const g = built.shutdownGraceMs();
      return g < 0 ? -1 : Math.max(g, SHUTDOWN_GRACE_MS);
    };

    const server = createApiServer(built.engine, { logger, serverVersion: packageVersion() });
    const connections = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Hijacked attach streams and long waits would hold close() forever; the clients
          // see their connection end, the containers are not touched.
          for (const socket of connections) socket.destroy();
        }),
    );
    for (const host of config.hosts) {
      const listener = await listenOn(server, host, {
        tls: serverTls,
        onTlsError: (err, remote) => logger.info(`TLS handshake with ${remote} on ${host} failed: ${err.message}`),
      });
      cleanups.push(listener.cleanup);
      const warning = insecureHostWarning(host, serverTls);
      if (warning) logger.warn(warning);
      logger.info(`API listen on ${host.replace(/^unix:\/\//, '')}${serverTls && listener.address.kind === 'tcp' ? ` (TLS${serverTls.verify ? ', client certificates verified' : ''})` : ''}`);
    }
    logger.info(`hakod ${packageVersion()} ready (data root ${config.dataRoot}, exec root ${config.execRoot}, runtime ${config.runtime})`);
  } catch (err) {
    await cleanup();
    throw err;
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received: closing the API; ${config.liveRestore ? 'containers keep running (live-restore)' : 'stopping containers'}`);
    const grace = graceMs();
    if (grace >= 0) {
      setTimeout(() => {
        logger.error(`shutdown took longer than ${grace / 1000}s: exiting anyway`);
        process.exit(1);
      }, grace).unref();
    }
    void cleanup().then(() => {
      logger.info('hakod stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function main(): Promise<void> {
  let loaded;
  try {
    loaded = await loadConfig(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`hakod: ${(err as Error).message}\n`);
    process.exit(isHakoError(err) ? 125 : 1);
  }
  if (loaded === null) return;
  const logger = createLogger({ level: loaded.config.logLevel });
  for (const warning of loaded.warnings) logger.warn(warning);
  try {
    await run(loaded.config, logger);
  } catch (err) {
    logger.error(`failed to start: ${(err as Error).message}`);
    process.exit(1);
  }
}

await main();
