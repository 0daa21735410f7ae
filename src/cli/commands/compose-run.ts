/**
 * `hako compose run [OPTIONS] SERVICE [COMMAND...]`: a one-off container of a service (compose's
 * cmd/compose/run.go). src/compose makes it (dependencies first, its labels and name); attaching
 * is `hako run`'s own code (containers.ts attachWaitStart: a TTY when stdin is a terminal, signals
 * proxied, --rm waited for), so the exit status is the command's.
 */
import { resolve } from 'node:path';
import type { FlagDef, Flags } from '../flags.js';
import type { Cli } from '../cli.js';
import type { Client } from '../../client/index.js';
import { StatusError } from '../errors.js';
import { attachWaitStart, errorText } from '../containers.js';
import { createOneOff, type ComposeContext, type Project } from '../../compose/index.js';

export const RUN_FLAGS: FlagDef[] = [
  { name: 'detach', short: 'd', kind: 'bool', usage: 'Run container in background and print container ID' },
  { name: 'rm', kind: 'bool', usage: 'Automatically remove the container when it exits' },
  { name: 'no-TTY', short: 'T', kind: 'bool', usage: 'Disable pseudo-TTY allocation (default: auto-detected)' },
  { name: 'interactive', short: 'i', kind: 'bool', default: true, usage: 'Keep STDIN open even if not attached' },
  { name: 'tty', short: 't', kind: 'bool', default: true, usage: 'Allocate a pseudo-TTY (default: when stdout is a terminal)' },
  { name: 'env', short: 'e', kind: 'stringArray', usage: 'Set environment variables' },
  { name: 'label', short: 'l', kind: 'stringArray', usage: 'Add or override a label' },
  { name: 'user', short: 'u', kind: 'string', usage: 'Run as specified username or uid' },
  { name: 'workdir', short: 'w', kind: 'string', usage: 'Working directory inside the container' },
  { name: 'entrypoint', kind: 'string', usage: 'Override the entrypoint of the image' },
  { name: 'name', kind: 'string', usage: 'Assign a name to the container' },
  { name: 'no-deps', kind: 'bool', usage: "Don't start linked services" },
  { name: 'publish', short: 'p', kind: 'stringArray', usage: "Publish a container's port(s) to the host" },
  { name: 'service-ports', kind: 'bool', usage: "Run command with all service's ports enabled and mapped to the host" },
  { name: 'volume', short: 'v', kind: 'stringArray', usage: 'Bind mount a volume' },
  { name: 'build', kind: 'bool', usage: 'Build image before starting container' },
  { name: 'use-aliases', kind: 'bool', usage: "Use the service's network useAliases in the network(s) the container connects to" },
  { name: 'quiet-pull', kind: 'bool', usage: 'Pull without printing progress information' },
  { name: 'cap-add', kind: 'stringArray', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', kind: 'stringArray', usage: 'Drop Linux capabilities' },
  { name: 'pull', kind: 'string', default: 'policy', usage: 'Pull image before running ("always"|"missing"|"never")' },
  { name: 'remove-orphans', kind: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
  { name: 'env-from-file', kind: 'stringArray', usage: 'Set environment variables from file' },
];

export interface RunContext {
  cli: Cli;
  client: Client;
  project: Project;
  ctx: ComposeContext;
  /** Ends the progress display before the container's output takes the terminal. */
  stopProgress: () => void;
}

export async function composeRun(c: RunContext, f: Flags, args: string[]): Promise<number> {
  const [service, ...command] = args as [string, ...string[]];
  if (!(service in c.project.services) && !(service in c.project.disabledServices)) throw new StatusError(1, `no such service: ${service}`);
  const detach = f.bool('detach');
  if (detach && f.bool('rm')) throw new StatusError(1, '--rm and --detach are incompatible: a detached one-off is removed with `down`');
  if (f.bool('service-ports') && f.array('publish').length > 0) throw new StatusError(1, '--service-ports and --publish are incompatible');
  // compose: -T's default is "stdout is not a terminal"; -t/-T given win; a TTY with stdin open
  // needs stdin to be a terminal (docker's CheckTty).
  if (f.has('tty') && f.has('no-TTY')) throw new StatusError(1, "--tty and --no-TTY can't be used together");
  const tty = f.has('tty') ? f.bool('tty') : f.has('no-TTY') ? !f.bool('no-TTY') : (c.cli.stdout as { isTTY?: boolean }).isTTY === true;
  const interactive = f.bool('interactive');
  if (tty && interactive && !detach && c.cli.stdin.isTTY !== true) throw new StatusError(1, 'the input device is not a TTY');
  const pull = f.string('pull') || 'policy';
  if (!['always', 'missing', 'never', 'policy'].includes(pull)) throw new StatusError(1, `invalid --pull option "${pull}": use always, missing or never`);
  const { id } = await createOneOff(c.ctx, {
    service, command, tty, interactive, detach, rm: f.bool('rm'),
    env: f.array('env'), labels: f.array('label'), user: f.string('user'), workdir: f.string('workdir'),
    ...(f.has('entrypoint') ? { entrypoint: f.string('entrypoint') } : {}),
    name: f.string('name'), noDeps: f.bool('no-deps'), servicePorts: f.bool('service-ports'),
    publish: f.array('publish'), volumes: f.array('volume'), build: f.bool('build'), useAliases: f.bool('use-aliases'),
    quietPull: f.bool('quiet-pull'),
    capAdd: f.array('cap-add'), capDrop: f.array('cap-drop'), pull: pull as 'always' | 'missing' | 'never' | 'policy',
    removeOrphans: f.bool('remove-orphans'), envFiles: f.array('env-from-file').map((p) => resolve(p)),
  });
  c.stopProgress();
  if (detach) {
    // compose prints the container's id (docker's `start` of it), the name is in `ps -a`.
    await c.client.containerStart(id);
    c.cli.out(id);
    return 0;
  }
  return attachWaitStart(c.cli, c.client, {
    id, tty, stdin: interactive, stdout: true, stderr: true, autoRemove: f.bool('rm'), sigProxy: true,
    onStartError: (e) => new StatusError(1, errorText(e)),
  });
}
