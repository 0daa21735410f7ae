/** `hako info`: what the daemon reports about itself (GET /info). */
import type { Command } from '../command.js';
import { renderInspect } from '../render.js';
import { bytesSize } from '../format/index.js';
import { errorText } from '../containers.js';
import { StatusError } from '../errors.js';

export const info: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Display system-wide information',
    aliases: 'hako system info, hako info',
    flags: [{ name: 'format', short: 'f', kind: 'string', usage: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const format = flags.string('format');
    let server: Record<string, unknown>;
    try {
      server = await (await cli.client()).info();
    } catch (e) {
      if (format) throw e;
      cli.out('Client:\n Version:    hako\n Context:    default\n Debug Mode: false\n\nServer:');
      throw new StatusError(1, `ERROR: ${errorText(e)}\nerrors pretty printing info`);
    }
    if (format) {
      cli.stdout.write(renderInspect([server], format));
      return;
    }
    const v = (k: string): string => (server[k] === undefined || server[k] === null ? '' : String(server[k]));
    const lines = [
      'Client:',
      ' Context:    default',
      ' Debug Mode: false',
      '',
      'Server:',
      ` Containers: ${v('Containers')}`,
      `  Running: ${v('ContainersRunning')}`,
      `  Paused: ${v('ContainersPaused')}`,
      `  Stopped: ${v('ContainersStopped')}`,
      ` Images: ${v('Images')}`,
      ` Server Version: ${v('ServerVersion')}`,
      ` Storage Driver: ${v('Driver')}`,
      ` Logging Driver: ${v('LoggingDriver')}`,
      ` Cgroup Driver: ${v('CgroupDriver')}`,
      ` Cgroup Version: ${v('CgroupVersion')}`,
      ` Default Runtime: ${v('DefaultRuntime')}`,
      ` Init Binary: ${v('InitBinary')}`,
      ` Kernel Version: ${v('KernelVersion')}`,
      ` Operating System: ${v('OperatingSystem')}`,
      ` OSType: ${v('OSType')}`,
      ` Architecture: ${v('Architecture')}`,
      ` CPUs: ${v('NCPU')}`,
      ` Total Memory: ${bytesSize(Number(server['MemTotal'] ?? 0))}`,
      ` Name: ${v('Name')}`,
      ` ID: ${v('ID')}`,
      ` Hako Root Dir: ${v('DockerRootDir')}`,
      ` Debug Mode: ${v('Debug') || 'false'}`,
      ` Experimental: ${v('ExperimentalBuild') || 'false'}`,
      ` Live Restore Enabled: ${v('LiveRestoreEnabled') || 'false'}`,
    ];
    cli.out(lines.join('\n'));
    for (const w of (server['Warnings'] as string[] | null | undefined) ?? []) cli.err(w);
  },
};
