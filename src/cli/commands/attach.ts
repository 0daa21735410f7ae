/** `hako attach`: connect the terminal to a running container until it exits or the user detaches. */
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { streamConnection } from '../attachio.js';
import { monitorSize } from '../tty.js';
import { proxySignals } from '../containers.js';

export const attach: Command = {
  spec: {
    use: '[OPTIONS] CONTAINER',
    short: 'Attach local standard input, output, and error streams to a running container',
    aliases: 'hako container attach, hako attach',
    flags: [
      { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
      { name: 'no-stdin', kind: 'bool', usage: 'Do not attach STDIN' },
      { name: 'sig-proxy', kind: 'bool', default: true, usage: 'Proxy all received signals to the process' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const client = await cli.client();
    const c = await client.containerInspect(args[0] as string);
    if (!c.State.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
    if (c.State.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
    if (c.State.Restarting) throw new StatusError(1, 'You cannot attach to a restarting container, wait until it is running');
    const tty = c.Config.Tty === true;
    const stdin = !flags.bool('no-stdin') && c.Config.OpenStdin === true;
    if (stdin && tty && !cli.stdin.isTTY) throw new StatusError(1, 'the input device is not a TTY');
    const detachKeys = flags.string('detach-keys') || undefined;
    const conn = await client.containerAttach(c.Id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
    const waitAbort = new AbortController();
    const wait = client.containerWait(c.Id, 'not-running', waitAbort.signal);
    wait.result.catch(() => {});
    const streaming = streamConnection(cli, conn, { tty, stdin, stdout: true, stderr: true, detachKeys });
    const stopSignals = flags.bool('sig-proxy') && !tty ? proxySignals(client, c.Id) : () => {};
    const stopResize = tty ? monitorSize(cli, (h, w) => client.containerResize(c.Id, h, w)) : () => {};
    try {
      const end = await streaming.done;
      if (end === 'detached') {
        waitAbort.abort();
        return 0;
      }
    } finally {
      stopResize();
      stopSignals();
      conn.close();
    }
    const result = await wait.result;
    return result.StatusCode;
  },
};
