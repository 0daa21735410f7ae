/** `hako start`: start containers; with -a/-i attach to one and exit with its status. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { attachWaitStart, errorText } from '../containers.js';

export const start: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Start one or more stopped containers',
    aliases: 'hako container start, hako start',
    flags: [
      { name: 'attach', short: 'a', kind: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
      { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'interactive', short: 'i', kind: 'bool', usage: "Attach container's STDIN" },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    if (flags.bool('attach') || flags.bool('interactive')) {
      if (args.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
      const c = await client.containerInspect(args[0] as string);
      const tty = c.Config.Tty === true;
      return attachWaitStart(cli, client, {
        id: c.Id,
        tty,
        stdin: flags.bool('interactive') && c.Config.OpenStdin === true,
        stdout: true,
        stderr: true,
        detachKeys: flags.string('detach-keys') || undefined,
        autoRemove: c.HostConfig.AutoRemove === true,
        // docker start forwards signals only without a TTY (start.go).
        sigProxy: !tty,
        onStartError: (e) => e as Error,
      });
    }
    const failed: string[] = [];
    for (const name of args) {
      try {
        await client.containerStart(name);
        cli.out(name);
      } catch (e) {
        cli.err(errorText(e));
        failed.push(name);
      }
    }
    if (failed.length) throw new StatusError(1, `failed to start containers: ${failed.join(', ')}`);
  },
};
