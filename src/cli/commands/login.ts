/**
 * `hako login [SERVER]` and `hako logout [SERVER]`: the daemon checks the credentials against the
 * registry (POST /auth), the CLI keeps them in ~/.docker/config.json as docker does.
 */
import type { Command } from '../command.js';
import { DOCKER_HUB_KEY, erase, helperWarning, lookup, store } from '../credentials.js';
import { StatusError } from '../errors.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal, without echo for passwords. */
async function prompt(cli: Parameters<Command['run']>[0], question: string, hidden: boolean): Promise<string> {
  const { createInterface } = await import('node:readline');
  const input = cli.stdin as NodeJS.ReadStream;
  const rl = createInterface({ input, output: cli.stderr as NodeJS.WritableStream, terminal: Boolean(input.isTTY) });
  if (hidden) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => { if (s.includes(question)) cli.stderr.write(s); };
  }
  try {
    return await new Promise((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    if (hidden) cli.stderr.write('\n');
  }
}

export const login: Command = {
  spec: {
    use: '[OPTIONS] [SERVER]',
    short: 'Log in to a registry',
    flags: [
      { name: 'username', short: 'u', kind: 'string', usage: 'Username' },
      { name: 'password', short: 'p', kind: 'string', usage: 'Password' },
      { name: 'password-stdin', kind: 'bool', usage: 'Take the password from stdin' },
    ],
    args: { min: 0, max: 1 },
  },
  async run(cli, flags, args) {
    const server = args[0] ?? DOCKER_HUB_KEY;
    let username = flags.string('username');
    let password = flags.string('password');
    if (password) cli.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
    if (flags.bool('password-stdin')) {
      if (password) throw new StatusError(1, '--password and --password-stdin are mutually exclusive');
      if (!username) throw new StatusError(1, 'Must provide --username with --password-stdin');
      password = (await readAll(cli.stdin)).replace(/\r?\n$/, '');
    }
    const stored = lookup(server);
    if (!username) {
      if (!cli.stdin.isTTY) throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
      username = (await prompt(cli, `Username${stored ? ` (${stored.username})` : ''}: `, false)).trim() || stored?.username || '';
    }
    if (!username) throw new StatusError(1, 'Error: Non-null Username Required');
    if (!password) {
      if (!cli.stdin.isTTY) throw new StatusError(1, 'Error: Cannot perform an interactive login from a non TTY device');
      password = await prompt(cli, 'Password: ', true);
    }
    if (!password) throw new StatusError(1, 'Error: Password Required');
    const client = await cli.client();
    const res = await client.registryLogin({ username, password, serveraddress: server });
    const warning = helperWarning(server);
    if (warning) cli.err(warning);
    const path = store(server, username, password, res.IdentityToken || undefined);
    cli.err(`WARNING! Your password will be stored unencrypted in ${path}.`);
    cli.out(res.Status || 'Login Succeeded');
  },
};

export const logout: Command = {
  spec: {
    use: '[SERVER]',
    short: 'Log out from a registry',
    flags: [],
    args: { min: 0, max: 1 },
  },
  async run(cli, _flags, args) {
    const server = args[0] ?? DOCKER_HUB_KEY;
    if (erase(server)) cli.out(`Removing login credentials for ${server === DOCKER_HUB_KEY ? 'https://index.docker.io/v1/' : server}`);
    else cli.out(`Not logged in to ${server}`);
  },
};
