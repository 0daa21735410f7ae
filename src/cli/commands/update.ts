/** `hako update`: change a container's resource limits (live when it runs) or restart policy. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { forEachName } from '../containers.js';
import { parseBytes, parseRestartPolicy } from '../containeropts.js';

const bytes = (name: string, usage: string, short?: string) => ({ name, short, kind: 'string' as const, valueName: 'bytes', usage });

export const update: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Update configuration of one or more containers',
    aliases: 'hako container update, hako update',
    flags: [
      { name: 'blkio-weight', kind: 'uint', valueName: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
      { name: 'cpu-period', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
      { name: 'cpu-quota', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
      { name: 'cpu-rt-period', kind: 'int', usage: 'Limit the CPU real-time period in microseconds' },
      { name: 'cpu-rt-runtime', kind: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
      { name: 'cpu-shares', short: 'c', kind: 'int', usage: 'CPU shares (relative weight)' },
      { name: 'cpus', kind: 'string', valueName: 'decimal', usage: 'Number of CPUs' },
      { name: 'cpuset-cpus', kind: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
      { name: 'cpuset-mems', kind: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
      bytes('memory', 'Memory limit', 'm'),
      bytes('memory-reservation', 'Memory soft limit'),
      bytes('memory-swap', "Swap limit equal to memory plus swap: -1 to enable unlimited swap"),
      { name: 'pids-limit', kind: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
      { name: 'restart', kind: 'string', usage: 'Restart policy to apply when a container exits' },
    ],
    args: { min: 1 },
  },
  async run(cli, flags, args) {
    const size = (n: string): number => {
      const v = flags.string(n);
      if (v === '') return 0;
      if (v === '-1') return -1;
      try {
        return parseBytes(v);
      } catch (e) {
        throw new StatusError(125, `invalid argument "${v}" for "--${n}" flag: ${(e as Error).message}\nSee 'hako update --help'.`);
      }
    };
    let nanoCpus = 0;
    if (flags.string('cpus')) {
      const c = Number(flags.string('cpus'));
      if (!Number.isFinite(c) || c < 0) throw new StatusError(125, `invalid argument "${flags.string('cpus')}" for "--cpus" flag: failed to parse ${flags.string('cpus')} as a rational number`);
      nanoCpus = Math.round(c * 1e9);
    }
    const body: Record<string, unknown> = {
      BlkioWeight: flags.number('blkio-weight'),
      CpuPeriod: flags.number('cpu-period'),
      CpuQuota: flags.number('cpu-quota'),
      CpuRealtimePeriod: flags.number('cpu-rt-period'),
      CpuRealtimeRuntime: flags.number('cpu-rt-runtime'),
      CpuShares: flags.number('cpu-shares'),
      CpusetCpus: flags.string('cpuset-cpus'),
      CpusetMems: flags.string('cpuset-mems'),
      Memory: size('memory'),
      MemoryReservation: size('memory-reservation'),
      MemorySwap: size('memory-swap'),
      NanoCpus: nanoCpus,
      PidsLimit: flags.has('pids-limit') ? flags.number('pids-limit') : undefined,
    };
    if (flags.has('restart')) {
      try {
        body.RestartPolicy = parseRestartPolicy(flags.string('restart'));
      } catch (e) {
        throw new StatusError(125, (e as Error).message);
      }
    }
    const nothing = Object.values(body).every((v) => v === 0 || v === '' || v === undefined);
    if (nothing) throw new StatusError(1, 'you must provide one or more flags when using this command');
    const client = await cli.client();
    return forEachName(cli, args, async (name) => {
      const res = await client.containerUpdate(name, body);
      for (const w of res.Warnings ?? []) cli.err(w);
    });
  },
};
