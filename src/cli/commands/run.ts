/** `hako run`: create, attach (unless -d), start, and exit with the container's status. */
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import type { Cli } from '../cli.js';
import type { Flags } from '../flags.js';
import { CONTAINER_FLAGS, RUN_ONLY_FLAGS, buildCreateBody, type ContainerCreateBody } from '../containeropts.js';
import { StatusError, withHelp } from '../errors.js';
import { attachWaitStart, createContainer, toStatusError } from '../containers.js';
import { consoleSize, parseDetachKeys } from '../tty.js';
import { readTextFile } from '../io.js';

/** Flags + args to the create body; invalid input exits 125 with docker's "--help" hint. */
export function bodyFromFlags(cli: Cli, flags: Flags, args: string[], detach: boolean): ContainerCreateBody {
  const pull = flags.string('pull');
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new StatusError(125, withHelp(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`, cli.commandPath));
  }
  try {
    return buildCreateBody({
      flags,
      image: args[0] as string,
      args: args.slice(1),
      detach,
      readFile: readTextFile,
      lookupEnv: (k) => process.env[k],
      resolvePath: (p) => resolve(p),
      consoleSize: flags.bool('tty') ? consoleSize(cli) : undefined,
    });
  } catch (e) {
    throw new StatusError(125, withHelp((e as Error).message, cli.commandPath));
  }
}

export const run: Command = {
  spec: {
    use: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create and run a new container from an image',
    aliases: 'hako container run, hako run',
    // Byte order, as pflag sorts: localeCompare would load ICU's collator on every run (~5 ms).
    flags: [...CONTAINER_FLAGS, ...RUN_ONLY_FLAGS].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    args: { min: 1 },
    interspersed: false,
  },
  async run(cli, flags, args) {
    const detach = flags.bool('detach');
    const body = bodyFromFlags(cli, flags, args, detach);
    const detachKeys = flags.string('detach-keys');
    if (detachKeys) {
      try { parseDetachKeys(detachKeys); } catch (e) { throw new StatusError(125, withHelp((e as Error).message, cli.commandPath)); }
    }
    const attachStdin = body['AttachStdin'] === true;
    const tty = body['Tty'] === true;
    if (!detach && attachStdin && tty && !cli.stdin.isTTY) {
      throw new StatusError(1, 'the input device is not a TTY');
    }
    let client;
    try {
      client = await cli.client();
    } catch (e) {
      throw toStatusError(e, cli.commandPath);
    }
    let id: string;
    try {
      id = await createContainer(cli, client, body, {
        name: flags.string('name'), platform: flags.string('platform'), pull: flags.string('pull'),
        quiet: flags.bool('quiet'), cidfile: flags.string('cidfile'),
      });
    } catch (e) {
      throw toStatusError(e, cli.commandPath);
    }

    const attach = attachStdin || body['AttachStdout'] === true || body['AttachStderr'] === true;
    if (!attach) {
      cli.out(id);
      try {
        await client.containerStart(id);
      } catch (e) {
        throw toStatusError(e, cli.commandPath);
      }
      return 0;
    }
    return attachWaitStart(cli, client, {
      id,
      tty,
      stdin: attachStdin,
      stdout: body['AttachStdout'] === true,
      stderr: body['AttachStderr'] === true,
      detachKeys: detachKeys || undefined,
      autoRemove: flags.bool('rm'),
      sigProxy: flags.bool('sig-proxy'),
      onStartError: (e) => toStatusError(e, cli.commandPath),
    });
  },
};
