/**
 * `hako compose` as the docker CLI's `compose` plugin, so `docker compose up -d` works where the
 * docker CLI has no Compose v2 plugin. bin/docker-compose-plugin runs this; a user links it into a
 * cli-plugins directory under the name `docker-compose` (README). The protocol, as the docker CLI's
 * cli-plugins/manager and cli-plugins/plugin packages speak it:
 *
 * - `docker-compose docker-cli-plugin-metadata` prints the plugin's metadata (`SchemaVersion`
 *   0.1.0, `Vendor` …): `docker --help` lists it, `docker info` shows it under Plugins.
 * - `docker [GLOBAL OPTIONS] compose ARGS` execs `docker-compose [GLOBAL OPTIONS] compose ARGS`:
 *   the docker CLI's own arguments, global options included, with
 *   DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND set, DOCKER_HOST/DOCKER_CONTEXT/DOCKER_CONFIG passed on
 *   untouched, and DOCKER_CLI_PLUGIN_SOCKET naming an abstract unix socket that the CLI closes when
 *   it is interrupted without a terminal (then the plugin stops as on Ctrl-C).
 * - The plugin finds the daemon as the docker CLI would (`resolveDockerHost`): -H, --context,
 *   DOCKER_HOST, DOCKER_CONTEXT, config.json's currentContext, else /var/run/docker.sock — never
 *   HAKO_HOST, and never an auto-started hakod: `docker compose` talks to the daemon `docker ps` does.
 *
 * Run by itself (no DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND), its arguments are compose's
 * (`docker-compose-plugin up -d`), as Compose v2's standalone binary.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FlagError, FlagSet, Flags, type FlagDef } from '../flags.js';
import { StatusError } from '../errors.js';
import { flushAndExit } from '../exit.js';

/** docker/cli cli-plugins/metadata: the name prefix, the metadata call, the re-exec variable. */
export const METADATA_SUBCOMMAND = 'docker-cli-plugin-metadata';
export const REEXEC_ENV = 'DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND';
export const SOCKET_ENV = 'DOCKER_CLI_PLUGIN_SOCKET';
/** The docker CLI's default host (DOCKER_HOST unset, default context). */
export const DOCKER_DEFAULT_HOST = 'unix:///var/run/docker.sock';

/** The docker CLI's global options (docker 28, cli/flags/options.go), which precede `compose`. */
const DOCKER_GLOBAL_FLAGS: FlagDef[] = [
  { name: 'config', kind: 'string', usage: 'Location of client config files' },
  { name: 'context', short: 'c', kind: 'string', usage: 'Name of the context to use' },
  { name: 'debug', short: 'D', kind: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', kind: 'stringArray', usage: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', kind: 'string', usage: 'Set the logging level' },
  { name: 'tls', kind: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', kind: 'string', usage: 'Trust certs signed only by this CA' },
  { name: 'tlscert', kind: 'string', usage: 'Path to TLS certificate file' },
  { name: 'tlskey', kind: 'string', usage: 'Path to TLS key file' },
  { name: 'tlsverify', kind: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', kind: 'bool', usage: 'Print version information and quit' },
];

/** compose's own global options that take a value: skipped when looking for the sub-command. */
const COMPOSE_VALUE_FLAGS = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--ansi', '--progress']);

export interface PluginInvocation {
  /** The arguments after `compose` (compose's global options, its sub-command and theirs). */
  composeArgs: string[];
  /** The docker CLI's global options given before `compose`. */
  globals: Flags;
}

/**
 * Standalone `docker-compose-plugin ARGS` as `[GLOBAL OPTIONS] compose ARGS`, as Compose v2's
 * standalone binary reads its arguments: the docker options before the sub-command (-H, --context,
 * --tls*, --log-level, -D; --verbose is --debug) are the docker CLI's, `-h` is --help and
 * `--version`/`-v` the version command; everything else stays compose's.
 */
export function standaloneArgs(args: string[]): string[] {
  const globals: string[] = [];
  const compose: string[] = ['compose'];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      compose.push(...args.slice(i));
      break;
    }
    if (a === '--verbose' || a === '-D' || a === '--debug' || a === '--tls' || a === '--tlsverify') {
      globals.push(a === '--verbose' ? '--debug' : a);
      continue;
    }
    const valued = STANDALONE_VALUE_FLAGS.find((f) => a === f || a.startsWith(`${f}=`));
    if (valued) {
      if (a === valued) {
        if (i + 1 >= args.length) throw new StatusError(1, `flag needs an argument: '${a}'`);
        globals.push(a, args[++i] as string);
      } else globals.push(a);
      continue;
    }
    compose.push(a === '-h' ? '--help' : a === '--version' || a === '-v' ? 'version' : a);
  }
  return [...globals, ...compose];
}

const STANDALONE_VALUE_FLAGS = ['--host', '-H', '--context', '--tlscacert', '--tlscert', '--tlskey', '--log-level'];

/** Splits `[GLOBAL OPTIONS] compose ARGS` (as plugin, or standalone once rewritten). */
export function parseInvocation(argv: string[], env: NodeJS.ProcessEnv): PluginInvocation {
  if (!env[REEXEC_ENV]) argv = standaloneArgs(argv);
  let parsed;
  try {
    parsed = new FlagSet(DOCKER_GLOBAL_FLAGS, { interspersed: false }).parse(argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    throw new StatusError(1, `${e.message}\n\nUsage:  docker [OPTIONS] compose COMMAND`);
  }
  const [name, ...rest] = parsed.args;
  if (name !== 'compose') {
    // The docker CLI runs a plugin only under its own name: this is a misnamed link.
    throw new StatusError(1, `docker-compose: run as "docker ${name ?? ''}", but this plugin is "docker compose": ` +
      'link bin/docker-compose-plugin into a cli-plugins directory under the name docker-compose');
  }
  return { composeArgs: rest, globals: new Flags(parsed) };
}

/** The docker CLI's config directory: --config, DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(globals: Flags | undefined, env: NodeJS.ProcessEnv): string {
  const flag = globals?.string('config');
  return flag || env['DOCKER_CONFIG'] || join(homedir(), '.docker');
}

/**
 * The daemon the docker CLI would talk to (docker/cli cli/command/cli.go resolveContextName and
 * the default context's endpoint): -H (one only), else --context, else DOCKER_HOST, else
 * DOCKER_CONTEXT, else config.json's currentContext, else unix:///var/run/docker.sock.
 * Errors carry the docker CLI's wording.
 */
export function resolveDockerHost(globals: Flags | undefined, env: NodeJS.ProcessEnv): string {
  const hosts = globals?.array('host') ?? [];
  const contextFlag = globals?.string('context') ?? '';
  if (hosts.length > 0 && contextFlag) throw new StatusError(1, 'conflicting options: cannot specify both --host and --context');
  if (hosts.length > 1) throw new StatusError(1, 'unable to resolve docker endpoint: Specify only one -H');
  const configDir = dockerConfigDir(globals, env);
  let context = contextFlag;
  if (!context && hosts.length === 0 && !env['DOCKER_HOST']) {
    context = env['DOCKER_CONTEXT'] || currentContextOf(configDir);
  }
  if (context && context !== 'default') return contextHost(configDir, context);
  const host = hosts[0] || env['DOCKER_HOST'] || DOCKER_DEFAULT_HOST;
  // docker's ParseHost: a bare path is a unix socket.
  return host.startsWith('/') ? `unix://${host}` : host;
}

function currentContextOf(configDir: string): string {
  let text: string;
  try {
    text = readFileSync(join(configDir, 'config.json'), 'utf8');
  } catch {
    return '';
  }
  try {
    const config = JSON.parse(text) as { currentContext?: unknown };
    return typeof config.currentContext === 'string' ? config.currentContext : '';
  } catch (e) {
    throw new StatusError(1, `loading config file: ${join(configDir, 'config.json')}: ${(e as Error).message}`);
  }
}

/** A named context's docker endpoint: contexts/meta/<sha256(name)>/meta.json, as `docker context create` writes it. */
function contextHost(configDir: string, name: string): string {
  const file = join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json');
  let meta: { Endpoints?: { docker?: { Host?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as typeof meta;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? `context not found: open ${file}: no such file or directory` : err.message;
    throw new StatusError(1, `unable to resolve docker endpoint: context "${name}": ${why}`);
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || host === '') {
    throw new StatusError(1, `unable to resolve docker endpoint: context "${name}" has no docker endpoint (${file})`);
  }
  return host;
}

/** The metadata the docker CLI asks for (`docker info`'s Plugins, `docker --help`'s "compose*"). */
export function pluginMetadata(version: string): Record<string, string> {
  return {
    SchemaVersion: '0.1.0',
    Vendor: 'hako',
    Version: `v${version}`,
    ShortDescription: 'Docker Compose',
  };
}

/** The sub-command of `compose ARGS` (after compose's global options), or undefined. */
function subCommandOf(args: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') return { name: args[i + 1], rest: args.slice(i + 2) };
    if (!a.startsWith('-')) return { name: a, rest: args.slice(i + 1) };
    if (COMPOSE_VALUE_FLAGS.has(a)) i++;
  }
  return { name: undefined, rest: [] };
}

const VERSION_FLAGS: FlagDef[] = [
  { name: 'format', short: 'f', kind: 'string', default: 'pretty', usage: 'Format the output. Values: [pretty | json]' },
  { name: 'short', kind: 'bool', usage: "Shows only Compose's version number" },
];

/**
 * `docker compose version [--short] [--format pretty|json]`, as Compose v2 prints it, naming hako;
 * `hako compose version` is the same (`path`: how the user called it).
 */
export function composeVersion(args: string[], version: string, out: NodeJS.WritableStream, path = 'docker compose'): number {
  const set = new FlagSet(VERSION_FLAGS);
  let parsed;
  try {
    parsed = set.parse(args);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    throw new StatusError(1, `${e.message}\n\nUsage:  ${path} version [OPTIONS]\n\nRun '${path} version --help' for more information`);
  }
  if (parsed.help) {
    out.write(`Usage:  ${path} version [OPTIONS]\n\nShow the Docker Compose version information\n\nOptions:\n${set.usage()}\n`);
    return 0;
  }
  if (parsed.args.length > 0) throw new StatusError(1, `'${path} version' accepts no arguments`);
  const f = new Flags(parsed);
  const format = f.string('format');
  if (f.bool('short')) out.write(`${version}\n`);
  else if (format === 'json') out.write(`${JSON.stringify({ version: `v${version}` })}\n`);
  else if (format === 'pretty' || format === '') out.write(`hako compose version v${version}\n`);
  else throw new StatusError(1, `ERROR: Invalid format "${format}". Supported format: pretty|json`);
  return 0;
}

/**
 * Watches the docker CLI's plugin socket: the CLI closes it when it is interrupted (SIGINT/SIGTERM
 * without a terminal), and the plugin then stops as on Ctrl-C: the running command's SIGINT
 * handler (attached `up` stops its containers), or an exit with 130.
 *
 * The CLI listens on an abstract address ("@docker_cli_<id>", bound with its exact length). Node
 * 20's net.connect pads an abstract name with NULs to the whole sun_path (addrlen 110), a
 * different address, so it is refused; Perl's pack_sockaddr_un gives the exact length, and
 * perl-base is Essential on Debian. The watcher is a child that connects, reads until EOF and
 * exits 0; without Perl (or with an older CLI) nothing is watched and the CLI's second signal
 * kills the plugin, as it would any plugin that does not connect.
 */
function watchCliSocket(env: NodeJS.ProcessEnv, exit: (code: number) => void): void {
  const addr = env[SOCKET_ENV];
  if (!addr) return;
  const script = 'my $a = $ARGV[0]; $a =~ s/^@/\\0/; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or exit 2; ' +
    'connect($s, pack_sockaddr_un($a)) or exit 2; 1 while sysread($s, my $b, 1); exit 0';
  const watcher = spawn('perl', ['-MSocket', '-e', script, addr], { stdio: 'ignore' });
  watcher.on('error', () => undefined); // no perl: nothing is watched
  watcher.on('exit', (code) => {
    if (code !== 0) return;
    if (process.listenerCount('SIGINT') > 0) process.kill(process.pid, 'SIGINT');
    else exit(130);
  });
  watcher.unref();
  process.on('exit', () => watcher.kill());
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs one plugin invocation and answers the exit status. */
export async function runComposePlugin(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const version = packageVersion();
  if (argv[0] === METADATA_SUBCOMMAND) {
    // Go's json.Encoder with SetIndent("", "     "), as the plugin framework prints it.
    process.stdout.write(`${JSON.stringify(pluginMetadata(version), null, 5)}\n`);
    return 0;
  }
  let host: string;
  let composeArgs: string[];
  const tlsArgs: string[] = [];
  try {
    const inv = parseInvocation(argv, env);
    composeArgs = inv.composeArgs;
    host = resolveDockerHost(inv.globals, env);
    // The docker CLI's --tls* options go on to hako's (tcp:// hosts; DOCKER_TLS_VERIFY and DOCKER_CERT_PATH pass in env).
    for (const name of ['tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey']) {
      if (inv.globals.has(name)) tlsArgs.push(`--${name}=${inv.globals.string(name)}`);
    }
    const config = inv.globals.string('config');
    // Registry credentials (credentials.ts) are read from the same config dir as the docker CLI's.
    if (config) env['DOCKER_CONFIG'] = config;
    watchCliSocket(env, (code) => void flushAndExit(code));
    const sub = subCommandOf(composeArgs);
    if (sub.name === 'version') return composeVersion(sub.rest, version, process.stdout);
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    if (e.text) process.stderr.write(`${e.text}\n`);
    return e.status;
  }
  const { runCli } = await import('../runner.js');
  return runCli(['-H', host, ...tlsArgs, 'compose', ...composeArgs], { env, program: 'docker' });
}

/** bin/docker-compose-plugin's entry point. */
export async function pluginMain(): Promise<void> {
  const { restoreExtraCaCerts } = await import('../extra-ca.js');
  restoreExtraCaCerts(process.env);
  await flushAndExit(await runComposePlugin(process.argv.slice(2)));
}
