/** `hako version`: client and server versions. */
import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { CLIENT_API_VERSION } from '../../client/index.js';
import { renderInspect } from '../render.js';
import { errorText } from '../containers.js';
import { StatusError } from '../errors.js';

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

export const version: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Show the hako version information',
    flags: [{ name: 'format', short: 'f', kind: 'string', usage: "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." }],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const clientInfo = {
      Platform: { Name: '' },
      Version: pkg.version,
      ApiVersion: CLIENT_API_VERSION,
      DefaultAPIVersion: CLIENT_API_VERSION,
      GitCommit: '',
      GoVersion: `node ${process.version}`,
      Os: process.platform,
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      BuildTime: '',
      Context: 'default',
    };
    let server: Record<string, unknown> | null = null;
    let serverError: unknown;
    try {
      const client = await cli.client();
      server = await client.version();
      clientInfo.ApiVersion = await client.apiVersion();
    } catch (e) {
      serverError = e;
    }
    const format = flags.string('format');
    if (format) {
      cli.stdout.write(renderInspect([{ Client: clientInfo, Server: server }], format));
    } else {
      const lines = [
        'Client:',
        ` Version:           ${clientInfo.Version}`,
        ` API version:       ${clientInfo.ApiVersion}`,
        ` Node version:      ${process.version}`,
        ` OS/Arch:           ${clientInfo.Os}/${clientInfo.Arch}`,
        ` Context:           ${clientInfo.Context}`,
      ];
      if (server) {
        const platform = (server['Platform'] as { Name?: string } | undefined)?.Name ?? '';
        lines.push(
          '',
          `Server:${platform ? ' ' + platform : ''}`,
          ' Engine:',
          `  Version:          ${str(server['Version'])}`,
          `  API version:      ${str(server['ApiVersion'])} (minimum version ${str(server['MinAPIVersion'])})`,
          `  Go version:       ${str(server['GoVersion'])}`,
          `  Git commit:       ${str(server['GitCommit'])}`,
          `  Built:            ${str(server['BuildTime'])}`,
          `  OS/Arch:          ${str(server['Os'])}/${str(server['Arch'])}`,
          `  Experimental:     ${str(server['Experimental'] ?? false)}`,
        );
        for (const c of (server['Components'] as Array<{ Name: string; Version: string; Details?: Record<string, string> }> | undefined) ?? []) {
          if (c.Name === 'Engine') continue;
          lines.push(` ${c.Name}:`, `  Version:          ${c.Version}`);
          for (const [k, v] of Object.entries(c.Details ?? {})) lines.push(`  ${`${k}:`.padEnd(18)}${v}`);
        }
      }
      cli.out(lines.join('\n'));
    }
    if (serverError) throw new StatusError(1, errorText(serverError));
  },
};
