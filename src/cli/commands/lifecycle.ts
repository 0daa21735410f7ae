/** `hako stop|kill|restart|pause|unpause`: one operation on each named container. */
import type { Command } from '../command.js';
import type { FlagDef } from '../flags.js';
import { forEachName } from '../containers.js';

const stopFlags: FlagDef[] = [
  { name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', kind: 'int', usage: 'Seconds to wait before killing the container' },
  { name: 'time', kind: 'int', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
];

function timeoutOf(flags: { has(n: string): boolean; number(n: string): number }): number | undefined {
  if (flags.has('timeout')) return flags.number('timeout');
  if (flags.has('time')) return flags.number('time');
  return undefined;
}

export const stop: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Stop one or more running containers',
    aliases: 'hako container stop, hako stop',
    flags: stopFlags,
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const opts = { signal: flags.string('signal') || undefined, timeout: timeoutOf(flags) };
    return forEachName(cli, args, (n) => client.containerStop(n, opts));
  },
};

export const restart: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Restart one or more containers',
    aliases: 'hako container restart, hako restart',
    flags: stopFlags,
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const opts = { signal: flags.string('signal') || undefined, timeout: timeoutOf(flags) };
    return forEachName(cli, args, (n) => client.containerRestart(n, opts));
  },
};

export const kill: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Kill one or more running containers',
    aliases: 'hako container kill, hako kill',
    flags: [{ name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' }],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    return forEachName(cli, args, (n) => client.containerKill(n, flags.string('signal') || undefined));
  },
};

export const pause: Command = {
  spec: {
    use: 'CONTAINER [CONTAINER...]',
    short: 'Pause all processes within one or more containers',
    aliases: 'hako container pause, hako pause',
    flags: [],
    args: { min: 1 },
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    return forEachName(cli, args, (n) => client.containerPause(n));
  },
};

export const unpause: Command = {
  spec: {
    use: 'CONTAINER [CONTAINER...]',
    short: 'Unpause all processes within one or more containers',
    aliases: 'hako container unpause, hako unpause',
    flags: [],
    args: { min: 1 },
  },
  async run(cli, _flags, args) {
    const client = await cli.client();
    return forEachName(cli, args, (n) => client.containerUnpause(n));
  },
};
