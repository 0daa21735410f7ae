/** `hako exec`: run a command in a running container; exit with its status. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { parseKeyValueFile, validateEnv } from '../containeropts.js';
import { streamConnection } from '../attachio.js';
import { readTextFile } from '../io.js';
import { consoleSize, monitorSize } from '../tty.js';

export const exec: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER COMMAND [ARG...]',
    short: 'Execute a command in a running container',
    aliases: 'hako container exec, hako exec',
    flags: [
      { name: 'detach', short: 'd', kind: 'bool', usage: 'Detached mode: run command in the background' },
      { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'env', short: 'e', kind: 'stringArray', valueName: 'list', usage: 'Set environment variables', validate: validateEnv },
      { name: 'env-file', kind: 'stringArray', valueName: 'list', usage: 'Read in a file of environment variables' },
      { name: 'interactive', short: 'i', kind: 'bool', usage: 'Keep STDIN open even if not attached' },
      { name: 'privileged', kind: 'bool', usage: 'Give extended privileges to the command' },
      { name: 'tty', short: 't', kind: 'bool', usage: 'Allocate a pseudo-TTY' },
      { name: 'user', short: 'u', kind: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
      { name: 'workdir', short: 'w', kind: 'string', usage: 'Working directory inside the container' },
    ],
    args: { min: 2 },
    interspersed: false,
  },
  async run(cli, flags, args) {
    const [container, ...cmd] = args as [string, ...string[]];
    const tty = flags.bool('tty');
    const interactive = flags.bool('interactive');
    const detach = flags.bool('detach');
    if (!detach && interactive && tty && !cli.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
    let env: string[];
    try {
      env = [
        ...flags.array('env-file').flatMap((p) => parseKeyValueFile(readTextFile(p), (k) => process.env[k])),
        ...flags.array('env').map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`)),
      ];
    } catch (e) {
      throw new StatusError(1, (e as Error).message);
    }
    const client = await cli.client();
    const size = tty ? consoleSize(cli) : undefined;
    const { Id: execId } = await client.execCreate(container, {
      User: flags.string('user'),
      Privileged: flags.bool('privileged'),
      Tty: tty,
      ConsoleSize: size ?? null,
      AttachStdin: interactive && !detach,
      AttachStdout: !detach,
      AttachStderr: !detach,
      DetachKeys: flags.string('detach-keys'),
      Env: env,
      WorkingDir: flags.string('workdir'),
      Cmd: cmd,
    });
    if (detach) {
      await client.execStartDetached(execId, { Tty: tty });
      return 0;
    }
    const conn = await client.execStartAttached(execId, { Tty: tty, ...(size ? { ConsoleSize: size } : {}) });
    const streaming = streamConnection(cli, conn, {
      tty, stdin: interactive, stdout: true, stderr: true, detachKeys: flags.string('detach-keys') || undefined,
    });
    const stopResize = tty ? monitorSize(cli, (h, w) => client.execResize(execId, h, w)) : () => {};
    try {
      const end = await streaming.done;
      if (end === 'detached') return 0;
    } finally {
      stopResize();
      conn.close();
    }
    const info = await client.execInspect(execId);
    return info.ExitCode ?? 0;
  },
};
