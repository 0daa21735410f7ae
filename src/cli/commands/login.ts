/**
 * `hako login [SERVER]` and `hako logout [SERVER]`: the daemon checks the credentials against the
 * registry (POST /auth), the CLI keeps them in ~/.docker/config.json as docker does.
 */
import type { Command } from '../command.js';
import { ClientError } from '../../client/index.js';
import { DOCKER_HUB_KEY, erase, helperWarning, lookup, store, type Credentials } from '../credentials.js';
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
    if (!username && !password && stored && (stored.identitytoken || (stored.username && stored.password))) {
      // As docker: a login without credentials first tries the stored ones, and prompts only when
      // they are refused. Unlike docker 28's CLI (which tries only a stored user and password),
      // a stored identity token counts too: it is exchanged with grant_type=refresh_token.
      const done = await loginWithStored(cli, server, stored);
      if (done) return;
    }
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

/**
 * Logs in with what config.json holds for `server`; false when the registry refused it (then the
 * user is asked, as docker does). The daemon answers a new identity token when the token server
 * rotated it, which replaces the old one.
 */
async function loginWithStored(cli: Parameters<Command['run']>[0], server: string, stored: Credentials): Promise<boolean> {
  cli.err(`Authenticating with existing credentials...${stored.username ? ` [Username: ${stored.username}]` : ''}`);
  cli.err(`To login with a different account, run 'hako logout' followed by 'hako login'`);
  const client = await cli.client();
  let res: { Status: string; IdentityToken?: string };
  try {
    res = await client.registryLogin({
      serveraddress: server,
      ...(stored.username ? { username: stored.username } : {}),
      ...(stored.identitytoken ? { identitytoken: stored.identitytoken } : { password: stored.password }),
    });
  } catch (err) {
    if (!(err instanceof ClientError) || err.status !== 401) throw err;
    cli.err('Stored credentials invalid or expired');
    return false;
  }
  const token = res.IdentityToken || stored.identitytoken;
  if (token !== stored.identitytoken) store(server, stored.username, stored.password, token);
  cli.out(res.Status || 'Login Succeeded');
  return true;
}

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
