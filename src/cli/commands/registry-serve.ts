/**
 * `hako registry serve --addr 127.0.0.1:5000 --root DIR [--htpasswd FILE]`: runs hako's registry
 * server (registry/) in the foreground until SIGINT/SIGTERM. It needs no daemon.
 */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';

export const registryServe: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Serve a registry (distribution spec) from a directory',
    flags: [
      { name: 'addr', kind: 'string', usage: 'Address to listen on (host:port)', default: '127.0.0.1:5000' },
      { name: 'root', kind: 'string', usage: 'Directory for the registry content (required)' },
      { name: 'htpasswd', kind: 'string', usage: 'htpasswd file (bcrypt entries); every request must log in' },
    ],
    args: { min: 0, max: 0 },
  },
  async run(cli, flags) {
    const root = flags.string('root');
    if (!root) throw new StatusError(1, 'registry serve: --root is required: the directory the registry keeps its content in');
    const addr = flags.string('addr') || '127.0.0.1:5000';
    const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(addr);
    if (!m) throw new StatusError(1, `registry serve: invalid --addr "${addr}": use host:port, e.g. 127.0.0.1:5000`);
    const host = (m[1] as string).replace(/^\[|\]$/g, '') || '0.0.0.0';
    const port = Number(m[2]);
    const { createRegistryServer } = await import('../../registry/index.js');
    const { resolve } = await import('node:path');
    const { server } = await createRegistryServer({
      root: resolve(root), htpasswd: flags.string('htpasswd') || undefined, log: (line) => cli.err(line),
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', (err: NodeJS.ErrnoException) => fail(new StatusError(1, `registry serve: cannot listen on ${addr}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}`)));
      server.listen(port, host, ok);
    });
    const bound = server.address();
    cli.out(`hako registry listening on ${typeof bound === 'object' && bound ? `${bound.address}:${bound.port}` : addr}, content in ${resolve(root)}${flags.string('htpasswd') ? ', htpasswd auth' : ''}`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.closeAllConnections();
        server.close(() => done());
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
