/**
 * Runs one `hako` invocation: parses the global flags, finds the command in the registry,
 * imports its module, parses its flags, checks its arguments, runs it, and maps every way it can
 * end to docker's message and exit status.
 */
import { FlagSet, FlagError, Flags, type FlagDef } from './flags.js';
import { TOP_LEVEL, GROUPS, COMMON, type Entry } from './registry.js';
import { Cli, DEFAULT_HOST } from './cli.js';
import { StatusError } from './errors.js';
import type { Command, CommandSpec } from './command.js';

const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'config', kind: 'string', usage: 'Location of client config files', default: '' },
  { name: 'context', short: 'c', kind: 'string', usage: 'Name of the context to use' },
  { name: 'debug', short: 'D', kind: 'bool', usage: 'Enable debug mode' },
  { name: 'host', short: 'H', kind: 'stringArray', valueName: 'list', usage: 'Daemon socket to connect to' },
  { name: 'log-level', short: 'l', kind: 'string', usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")', default: 'info' },
  { name: 'tls', kind: 'bool', usage: 'Use TLS; implied by --tlsverify' },
  { name: 'tlscacert', kind: 'string', usage: 'Trust certs signed only by this CA (default "$DOCKER_CERT_PATH/ca.pem", else ~/.docker/ca.pem)' },
  { name: 'tlscert', kind: 'string', usage: 'Path to TLS certificate file (default "$DOCKER_CERT_PATH/cert.pem", else ~/.docker/cert.pem)' },
  { name: 'tlskey', kind: 'string', usage: 'Path to TLS key file (default "$DOCKER_CERT_PATH/key.pem", else ~/.docker/key.pem)' },
  { name: 'tlsverify', kind: 'bool', usage: 'Use TLS and verify the remote' },
  { name: 'version', short: 'v', kind: 'bool', usage: 'Print version information and quit' },
];

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: Cli['stdin'];
  stdout?: Cli['stdout'];
  stderr?: Cli['stderr'];
  /** The program named in command paths ("hako"; "docker" when compose runs as the docker CLI's plugin). */
  program?: string;
}

export async function runCli(argv: string[], opts: RunOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const stderr = opts.stderr ?? process.stderr;
  const stdout = opts.stdout ?? process.stdout;
  const globals = new FlagSet(GLOBAL_FLAGS, { interspersed: false });
  let parsed;
  try {
    parsed = globals.parse(argv);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    stderr.write(`${e.message}\n\nUsage:  hako [OPTIONS] COMMAND\n\nRun 'hako --help' for more information\n`);
    return 125;
  }
  const g = new Flags(parsed);
  if (g.bool('version')) {
    stdout.write(`hako version ${await packageVersion()}\n`);
    return 0;
  }
  const [name, ...rest] = parsed.args;
  if (name === undefined || parsed.help || name === 'help') {
    stdout.write(rootHelp(globals));
    return 0;
  }

  let entry: Entry | undefined;
  const program = opts.program ?? 'hako';
  let path = `${program} ${name}`;
  let args = rest;
  const group = GROUPS[name];
  if (group) {
    const sub = rest[0];
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
      stdout.write(groupHelp(name, group));
      return 0;
    }
    entry = group.commands[sub];
    path = `${program} ${name} ${sub}`;
    args = rest.slice(1);
    if (!entry) {
      if (sub.startsWith('-')) {
        stderr.write(`unknown flag: ${sub}\n\nUsage:  hako ${name} COMMAND\n\nRun 'hako ${name} --help' for more information\n`);
        return 125;
      }
      stderr.write(`hako: unknown command: hako ${name} ${sub}\n\nRun 'hako ${name} --help' for more information\n`);
      return 1;
    }
  } else {
    entry = TOP_LEVEL[name];
    if (!entry) {
      stderr.write(`hako: unknown command: hako ${name}\n\nRun 'hako --help' for more information\n`);
      return 1;
    }
  }

  const hostFlag = g.array('host');
  const host = hostFlag[hostFlag.length - 1] || env['HAKO_HOST'] || env['DOCKER_HOST'] || '';
  const cli = new Cli({
    host: host || DEFAULT_HOST,
    hostExplicit: host !== '',
    // TLS for tcp:// hosts: resolved (certificates read) only when the client is made.
    tls: {
      tls: g.has('tls') ? g.bool('tls') : undefined,
      tlsverify: g.has('tlsverify') ? g.bool('tlsverify') : undefined,
      tlscacert: g.has('tlscacert') ? g.string('tlscacert') : undefined,
      tlscert: g.has('tlscert') ? g.string('tlscert') : undefined,
      tlskey: g.has('tlskey') ? g.string('tlskey') : undefined,
    },
    configDir: g.string('config') || undefined,
    env,
    commandPath: path,
    stdin: opts.stdin,
    stdout,
    stderr,
  });
  // Connect while the command's module loads (its import is most of the CLI's start-up time).
  if (!args.includes('--help') && !args.includes('-h')) cli.prefetch();
  const mod = (await import(`./commands/${entry.module}.js`)) as Record<string, Command>;
  const command = mod[entry.export];
  if (!command) throw new Error(`internal: ${entry.module}.${entry.export} is missing`);
  const spec = command.spec;
  const flagSet = new FlagSet(spec.flags, { interspersed: spec.interspersed ?? true });
  let cmdParsed;
  try {
    cmdParsed = flagSet.parse(args);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    stderr.write(`${e.message}\n\nUsage:  ${usageLine(path, spec)}\n\nRun '${path} --help' for more information\n`);
    cli.close();
    return 125;
  }
  if (cmdParsed.help) {
    stdout.write(commandHelp(path, spec, flagSet));
    cli.close();
    return 0;
  }
  const argError = checkArgs(path, spec, cmdParsed.args.length);
  if (argError) {
    stderr.write(argError);
    cli.close();
    return 1;
  }

  try {
    const code = await command.run(cli, new Flags(cmdParsed), cmdParsed.args);
    return code ?? 0;
  } catch (e) {
    return reportError(cli, e);
  } finally {
    cli.close();
  }
}

/** Prints an error the way docker's main does and answers the exit status. */
export function reportError(cli: Cli, e: unknown): number {
  if (e instanceof StatusError) {
    if (e.text) cli.err(e.text);
    return e.status;
  }
  const err = e as Error & { status?: number };
  if (err?.name === 'ClientError') {
    cli.err(`Error response from daemon: ${err.message}`);
    return 1;
  }
  cli.err(err?.message ?? String(e));
  return 1;
}

function usageLine(path: string, spec: CommandSpec): string {
  return spec.use.split('\n').map((u, i) => (i === 0 ? `${path} ${u}` : `\t${path} ${u}`)).join('\n');
}

function plural(n: number): string {
  return n === 1 ? 'argument' : 'arguments';
}

/** cobra.PositionalArgs as docker's cli/required.go words them. */
export function checkArgs(path: string, spec: CommandSpec, n: number): string | undefined {
  const { min, max } = spec.args ?? {};
  let msg: string | undefined;
  let verb = 'Run';
  if (min !== undefined && max !== undefined && min === max) {
    if (n !== min) msg = min === 0 ? `'${path}' accepts no arguments` : `'${path}' requires ${min} ${plural(min)}`;
  } else if (min !== undefined && max !== undefined) {
    if (n < min || n > max) msg = `'${path}' requires at least ${min} and at most ${max} ${plural(max)}`;
  } else if (min !== undefined) {
    if (n < min) {
      msg = `'${path}' requires at least ${min} ${plural(min)}`;
      verb = 'See';
    }
  } else if (max !== undefined) {
    if (n > max) msg = max === 0 ? `'${path}' accepts no arguments` : `'${path}' requires at most ${max} ${plural(max)}`;
  }
  if (!msg) return undefined;
  return `hako: ${msg}\n\nUsage:  ${usageLine(path, spec)}\n\n${verb} '${path} --help' for more information\n`;
}

export function commandHelp(path: string, spec: CommandSpec, flags: FlagSet): string {
  let out = `Usage:  ${usageLine(path, spec)}\n\n${spec.short}\n`;
  if (spec.aliases) out += `\nAliases:\n  ${spec.aliases}\n`;
  const options = flags.usage();
  if (options) out += `\nOptions:\n${options}\n`;
  if (spec.epilog) out += `\n${spec.epilog(path)}`;
  return out;
}

function table(entries: Array<[string, string]>): string {
  const width = Math.max(...entries.map(([n]) => n.length)) + 2;
  return entries.map(([n, s]) => `  ${n.padEnd(width)}${s}`).join('\n');
}

function rootHelp(globals: FlagSet): string {
  const common = Object.entries(COMMON).map(([n, en]): [string, string] => [n, en.short]);
  const groups = Object.entries(GROUPS).map(([n, gr]): [string, string] => [n, gr.short]);
  const rest = Object.entries(TOP_LEVEL).filter(([n]) => !(n in COMMON)).map(([n, en]): [string, string] => [n, en.short]);
  return `Usage:  hako [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\nCommon Commands:\n${table(common)}\n\n` +
    `Management Commands:\n${table(groups)}\n\nCommands:\n${table(rest)}\n\nGlobal Options:\n${globals.usage()}\n\n` +
    `Run 'hako COMMAND --help' for more information on a command.\n`;
}

function groupHelp(name: string, group: { short: string; commands: Record<string, Entry> }): string {
  const seen = new Set<Entry>();
  const rows: Array<[string, string]> = [];
  for (const [n, en] of Object.entries(group.commands)) {
    if (seen.has(en)) continue;
    seen.add(en);
    rows.push([n, en.short]);
  }
  return `Usage:  hako ${name} COMMAND\n\n${group.short}\n\nCommands:\n${table(rows)}\n\nRun 'hako ${name} COMMAND --help' for more information on a command.\n`;
}

async function packageVersion(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
