/** `hako wait`: block until containers stop; print each exit code. */
import type { Command } from '../command.js';
import { forEachName } from '../containers.js';

export const wait: Command = {
  spec: {
    use: 'CONTAINER [CONTAINER...]',
    short: 'Block until one or more containers stop, then print their exit codes',
    aliases: 'hako container wait, hako wait',
    flags: [],
    args: { min: 1 },
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    const codes = new Map<string, number>();
    return forEachName(cli, args, async (n) => {
      const r = await client.containerWait(n, 'not-running').result;
      if (r.Error?.Message) throw new Error(r.Error.Message);
      codes.set(n, r.StatusCode);
    }, { print: (n) => String(codes.get(n)) });
  },
};
