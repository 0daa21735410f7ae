/** `hako logs`: the container's output, demultiplexed unless it has a TTY. */
import type { Command } from '../command.js';
import { copyOutput } from '../../client/index.js';
import { parseTimestamp } from '../units.js';

export const logs: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    aliases: 'hako container logs, hako logs',
    flags: [
      { name: 'details', kind: 'bool', usage: 'Show extra details provided to logs' },
      { name: 'follow', short: 'f', kind: 'bool', usage: 'Follow log output' },
      { name: 'since', kind: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
      { name: 'tail', short: 'n', kind: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
      { name: 'timestamps', short: 't', kind: 'bool', usage: 'Show timestamps' },
      { name: 'until', kind: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const c = await client.containerInspect(args[0] as string);
    const now = Date.now();
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const res = await client.containerLogs(c.Id, {
        follow: flags.bool('follow'),
        since: parseTimestamp(flags.string('since'), now),
        until: parseTimestamp(flags.string('until'), now),
        timestamps: flags.bool('timestamps'),
        tail: flags.string('tail'),
        details: flags.bool('details'),
        signal: abort.signal,
      });
      await copyOutput(res, c.Config.Tty === true, cli.stdout, cli.stderr);
    } catch (e) {
      if (abort.signal.aborted) return 130;
      throw e;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
