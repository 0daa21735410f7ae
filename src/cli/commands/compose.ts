/**
 * `hako compose [-f FILE...] [-p NAME] COMMAND`: docker compose v2 on hako's API client. The
 * project comes from src/compose's loader, the engine is made to match it by src/compose's
 * convergence; this file is the command line: flags, sub-commands, and output as compose prints
 * it without a TTY (progress lines " Container p-web-1  Started" and warnings on stderr, logs
 * prefixed "p-web-1  | " on stdout).
 */
import type { Writable } from 'node:stream';
import type { Command, CommandSpec } from '../command.js';
import type { Cli } from '../cli.js';
import { FlagError, FlagSet, Flags, type FlagDef } from '../flags.js';
import { StatusError } from '../errors.js';
import { commandHelp, checkArgs } from '../runner.js';
import { containerRow } from '../rows.js';
import { renderList } from '../render.js';
import { parseTimestamp } from '../units.js';
import type { Client, ContainerSummary } from '../../client/index.js';
import {
  build as buildServices, down, isActive, kill, listProjects, loadProject, pause, projectContainers, pull, renderConfig, restart, rm, serviceOf, start, stop, up,
  type ComposeContext, type Progress, type Project,
} from '../../compose/index.js';
import { nameOf, prefixWidth, streamContainerLogs } from './compose-logs.js';
import { plainProgress, progressMode, TtyProgress, warnLine, type ProgressDisplay } from './compose-progress.js';
import { RUN_FLAGS, composeRun } from './compose-run.js';

const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'file', short: 'f', kind: 'stringArray', usage: 'Compose configuration files' },
  { name: 'project-name', short: 'p', kind: 'string', usage: 'Project name' },
  { name: 'project-directory', kind: 'string', usage: 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)' },
  { name: 'env-file', kind: 'stringArray', usage: 'Specify an alternate environment file' },
  { name: 'profile', kind: 'stringArray', usage: 'Specify a profile to enable' },
  { name: 'ansi', kind: 'string', default: 'auto', usage: 'Control when to print ANSI control characters ("never"|"always"|"auto")' },
  { name: 'progress', kind: 'string', usage: 'Set type of progress output (auto, tty, plain, quiet)' },
];

interface Sub {
  spec: CommandSpec;
  /** Whether the command needs a compose file; without one, -p names the project (down, ps, logs ...). */
  needsFile?: boolean;
  /** `ls`: works on every project, none is loaded. */
  noProject?: boolean;
  run(c: ComposeRun, flags: Flags, args: string[]): Promise<number | void>;
}

/** What a sub-command works with: the loaded project, the client, and compose's output. */
class ComposeRun {
  constructor(readonly cli: Cli, readonly client: Client, readonly project: Project, readonly progress: ProgressDisplay) {}

  get ctx(): ComposeContext {
    return { client: this.client, project: this.project, hostEnv: process.env, progress: this.progress as Progress };
  }
}

function warn(cli: Cli, message: string): void {
  cli.stderr.write(warnLine(message));
}

const timeoutFlag: FlagDef = { name: 'timeout', short: 't', kind: 'int', default: -1, usage: 'Specify a shutdown timeout in seconds' };
const timeoutOf = (f: Flags): number | undefined => (f.has('timeout') && f.number('timeout') >= 0 ? f.number('timeout') : undefined);

const SUBS: Record<string, Sub> = {
  up: {
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Create and start containers',
      flags: [
        { name: 'detach', short: 'd', kind: 'bool', usage: 'Detached mode: Run containers in the background' },
        { name: 'build', kind: 'bool', usage: 'Build images before starting containers' },
        { name: 'no-build', kind: 'bool', usage: "Don't build an image, even if it's policy" },
        { name: 'force-recreate', kind: 'bool', usage: "Recreate containers even if their configuration and image haven't changed" },
        { name: 'no-recreate', kind: 'bool', usage: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
        { name: 'no-start', kind: 'bool', usage: "Don't start the services after creating them" },
        { name: 'no-deps', kind: 'bool', usage: "Don't start linked services" },
        { name: 'remove-orphans', kind: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
        { name: 'wait', kind: 'bool', usage: 'Wait for services to be running|healthy. Implies detached mode.' },
        { name: 'abort-on-container-exit', kind: 'bool', usage: 'Stops all containers if any container was stopped. Incompatible with -d' },
        { name: 'exit-code-from', kind: 'string', usage: 'Return the exit code of the selected service container. Implies --abort-on-container-exit' },
        { name: 'no-log-prefix', kind: 'bool', usage: "Don't print prefix in logs" },
        { name: 'no-color', kind: 'bool', usage: 'Produce monochrome output' },
        { name: 'scale', kind: 'stringArray', usage: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
        { name: 'quiet-pull', kind: 'bool', usage: 'Pull without printing progress information' },
        { name: 'pull', kind: 'string', default: 'policy', usage: 'Pull image before running ("always"|"missing"|"never")' },
        { name: 'wait-timeout', kind: 'int', default: 0, usage: 'Maximum duration in seconds to wait for the project to be running|healthy' },
        { name: 'attach', kind: 'stringArray', usage: 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.' },
        { name: 'no-attach', kind: 'stringArray', usage: 'Do not attach (stream logs) to the specified services' },
        { name: 'attach-dependencies', kind: 'bool', usage: 'Automatically attach to log output of dependent services' },
        timeoutFlag,
      ],
    },
    async run(c, f, args) {
      if (f.bool('attach-dependencies') && f.array('attach').length > 0) throw new StatusError(1, '--attach-dependencies and --attach are incompatible');
      const modes = convergeModes(f);
      const pullMode = f.string('pull') || 'policy';
      if (!['always', 'missing', 'never', 'policy', 'build'].includes(pullMode)) throw new StatusError(1, `invalid --pull option "${pullMode}": use always, missing or never`);
      if (f.number('wait-timeout') < 0) throw new StatusError(1, `invalid --wait-timeout ${f.number('wait-timeout')}: use a number of seconds`);
      for (const s of [...f.array('attach'), ...f.array('no-attach')]) checkServices(c.project, [s]);
      const detach = f.bool('detach') || f.bool('wait');
      if (f.bool('detach') && (f.bool('abort-on-container-exit') || f.string('exit-code-from'))) throw new StatusError(1, '--abort-on-container-exit and --detach are incompatible');
      // Checked before anything is created: compose refuses it without touching the engine.
      const exitCodeFrom = f.string('exit-code-from');
      if (exitCodeFrom && !(exitCodeFrom in c.project.services)) throw new StatusError(1, `no such service: ${exitCodeFrom}`);
      applyScale(c.project, f.array('scale'));
      const timeout = timeoutOf(f);
      const since = Math.floor(Date.now() / 1000);
      const ids = await up(c.ctx, {
        services: args,
        noDeps: f.bool('no-deps'),
        ...modes,
        removeOrphans: f.bool('remove-orphans'),
        start: !f.bool('no-start'),
        wait: f.bool('wait'),
        ...(f.number('wait-timeout') > 0 ? { waitTimeout: f.number('wait-timeout') } : {}),
        quietPull: f.bool('quiet-pull'),
        ...(pullMode !== 'policy' && pullMode !== 'build' ? { pull: pullMode as 'always' | 'missing' | 'never' } : {}),
        ...(pullMode === 'build' ? { build: 'always' as const } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
      });
      c.progress.stop();
      if (detach || f.bool('no-start')) return 0;
      return attach(c, ids, {
        since, prefix: !f.bool('no-log-prefix'), abortOnExit: f.bool('abort-on-container-exit') || exitCodeFrom !== '', exitCodeFrom, timeout,
        // compose's up: the services named (all when none), their dependencies too with
        // --attach-dependencies; --attach chooses instead.
        only: f.array('attach').length > 0 ? f.array('attach') : f.bool('attach-dependencies') ? [] : args,
        not: f.array('no-attach'),
      });
    },
  },
  create: {
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Creates containers for a service',
      flags: [
        { name: 'build', kind: 'bool', usage: 'Build images before starting containers' },
        { name: 'no-build', kind: 'bool', usage: "Don't build an image, even if it's policy" },
        { name: 'force-recreate', kind: 'bool', usage: "Recreate containers even if their configuration and image haven't changed" },
        { name: 'no-recreate', kind: 'bool', usage: "If containers already exist, don't recreate them. Incompatible with --force-recreate." },
        { name: 'remove-orphans', kind: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
        { name: 'scale', kind: 'stringArray', usage: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
      ],
    },
    async run(c, f, args) {
      const modes = convergeModes(f);
      applyScale(c.project, f.array('scale'));
      await up(c.ctx, { services: args, start: false, removeOrphans: f.bool('remove-orphans'), ...modes });
    },
  },
  down: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICES]',
      short: 'Stop and remove containers, networks',
      flags: [
        { name: 'volumes', short: 'v', kind: 'bool', usage: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
        { name: 'remove-orphans', kind: 'bool', usage: 'Remove containers for services not defined in the Compose file' },
        { name: 'rmi', kind: 'string', usage: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
        timeoutFlag,
      ],
      args: { max: 0 },
    },
    async run(c, f) {
      const rmi = f.string('rmi');
      if (rmi && rmi !== 'local' && rmi !== 'all') throw new StatusError(1, `invalid --rmi option "${rmi}": use local or all`);
      const timeout = timeoutOf(f);
      await down(c.ctx, {
        volumes: f.bool('volumes'), removeOrphans: f.bool('remove-orphans'),
        ...(rmi ? { rmi: rmi as 'local' | 'all' } : {}), ...(timeout !== undefined ? { timeout } : {}),
      });
    },
  },
  ps: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'List containers',
      flags: [
        { name: 'all', short: 'a', kind: 'bool', usage: 'Show all stopped containers (including those created by the run command)' },
        { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display IDs' },
        { name: 'services', kind: 'bool', usage: 'Display services' },
        { name: 'format', kind: 'string', default: 'table', usage: 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'table TEMPLATE\':   Print output in table format using the given Go template\n\'json\':             Print in JSON format\n\'TEMPLATE\':         Print output using the given Go template.' },
        { name: 'status', kind: 'stringArray', usage: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
        { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      ],
    },
    async run(c, f, args) {
      checkServices(c.project, args);
      // -a shows stopped containers and the one-off ones `run` made (compose's --all).
      let list = await projectContainers(c.client, c.project.name, { all: f.bool('all') || f.array('status').length > 0, services: args, oneOff: f.bool('all') });
      const statuses = f.array('status');
      if (statuses.length > 0) list = list.filter((x) => statuses.includes(x.State));
      if (f.bool('services')) {
        for (const s of [...new Set(list.map(serviceOf))]) c.cli.out(s);
        return;
      }
      if (f.bool('quiet')) {
        for (const x of list) c.cli.out(x.Id);
        return;
      }
      const format = f.string('format') || 'table';
      const now = Date.now();
      const rows = list.map((x) => composeRow(c.project.name, x, now, !f.bool('no-trunc')));
      if (format === 'json') {
        // compose v2.21+: one JSON object per line.
        for (const r of rows) c.cli.out(JSON.stringify(r));
        return;
      }
      c.cli.stdout.write(renderList(rows, {
        format, defaultTable: '{{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}',
        headers: { Name: 'NAME', Image: 'IMAGE', Command: 'COMMAND', Service: 'SERVICE', RunningFor: 'CREATED', Status: 'STATUS', Ports: 'PORTS', ID: 'CONTAINER ID', State: 'STATE', Project: 'PROJECT', Health: 'HEALTH', ExitCode: 'EXIT CODE' },
      }));
    },
  },
  logs: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'View output from containers',
      flags: [
        { name: 'follow', short: 'f', kind: 'bool', usage: 'Follow log output' },
        { name: 'timestamps', short: 't', kind: 'bool', usage: 'Show timestamps' },
        { name: 'tail', short: 'n', kind: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs for each container' },
        { name: 'since', kind: 'string', usage: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
        { name: 'until', kind: 'string', usage: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
        { name: 'no-color', kind: 'bool', usage: 'Produce monochrome output' },
        { name: 'no-log-prefix', kind: 'bool', usage: "Don't print prefix in logs" },
        { name: 'index', kind: 'int', usage: 'index of the container if service has multiple replicas' },
      ],
    },
    async run(c, f, args) {
      checkServices(c.project, args);
      let list = await projectContainers(c.client, c.project.name, { services: args });
      if (f.has('index')) list = list.filter((x) => Number(x.Labels?.['com.docker.compose.container-number']) === f.number('index'));
      const now = Date.now();
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      try {
        const infos = await Promise.all(list.map(async (x) => ({ id: x.Id, name: nameOf(x), tty: (await c.client.containerInspect(x.Id)).Config.Tty === true })));
        const width = prefixWidth(infos);
        await Promise.all(infos.map((x) => streamContainerLogs(c.client, x, width, { stdout: c.cli.stdout, stderr: c.cli.stderr }, {
          follow: f.bool('follow'), timestamps: f.bool('timestamps'), tail: f.string('tail'), prefix: !f.bool('no-log-prefix'),
          ...(f.string('since') ? { since: parseTimestamp(f.string('since'), now) } : {}),
          ...(f.string('until') ? { until: parseTimestamp(f.string('until'), now) } : {}),
          signal: abort.signal,
        })));
      } finally {
        process.off('SIGINT', onSignal);
      }
      return abort.signal.aborted ? 130 : 0;
    },
  },
  build: {
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Build or rebuild services',
      flags: [
        { name: 'no-cache', kind: 'bool', usage: 'Do not use cache when building the image' },
        { name: 'pull', kind: 'bool', usage: 'Always attempt to pull a newer version of the image' },
        { name: 'quiet', short: 'q', kind: 'bool', usage: "Don't print anything to STDOUT" },
      ],
    },
    async run(c, f, args) {
      const ctx = c.ctx;
      const p = ctx.progress;
      if (f.bool('quiet')) ctx.progress = { event: (id, st) => p.event(id, st), warn: (m) => p.warn(m), buildOutput: () => undefined };
      await buildServices(ctx, args, { noCache: f.bool('no-cache'), pull: f.bool('pull') });
    },
  },
  pull: {
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Pull service images',
      flags: [
        { name: 'quiet', short: 'q', kind: 'bool', usage: 'Pull without printing progress information' },
        { name: 'ignore-pull-failures', kind: 'bool', usage: 'Pull what it can and ignores images with pull failures' },
      ],
    },
    async run(c, f, args) {
      const ctx = c.ctx;
      const p = ctx.progress;
      if (f.bool('quiet')) ctx.progress = { event: () => undefined, warn: (m) => p.warn(m), buildOutput: () => undefined };
      await pull(ctx, args, { ignoreFailures: f.bool('ignore-pull-failures') });
    },
  },
  stop: {
    needsFile: false,
    spec: { use: '[OPTIONS] [SERVICE...]', short: 'Stop services', flags: [timeoutFlag] },
    async run(c, f, args) {
      checkServices(c.project, args);
      await stop(c.ctx, args, timeoutOf(f));
    },
  },
  start: {
    needsFile: false,
    spec: { use: '[SERVICE...]', short: 'Start services', flags: [] },
    async run(c, _f, args) {
      checkServices(c.project, args);
      await start(c.ctx, args);
    },
  },
  restart: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Restart service containers',
      flags: [timeoutFlag, { name: 'no-deps', kind: 'bool', usage: "Don't restart dependent services" }],
    },
    async run(c, f, args) {
      checkServices(c.project, args);
      await restart(c.ctx, args, timeoutOf(f), { noDeps: f.bool('no-deps') });
    },
  },
  kill: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Force stop service containers',
      flags: [
        { name: 'signal', short: 's', kind: 'string', default: 'SIGKILL', usage: 'SIGNAL to send to the container' },
      ],
    },
    async run(c, f, args) {
      checkServices(c.project, args);
      await kill(c.ctx, args, f.string('signal') || 'SIGKILL');
    },
  },
  pause: {
    needsFile: false,
    spec: { use: '[SERVICE...]', short: 'Pause services', flags: [] },
    async run(c, _f, args) {
      checkServices(c.project, args);
      await pause(c.ctx, args, false);
    },
  },
  unpause: {
    needsFile: false,
    spec: { use: '[SERVICE...]', short: 'Unpause services', flags: [] },
    async run(c, _f, args) {
      checkServices(c.project, args);
      await pause(c.ctx, args, true);
    },
  },
  port: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] SERVICE PRIVATE_PORT',
      short: 'Print the public port for a port binding',
      flags: [
        { name: 'protocol', kind: 'string', default: 'tcp', usage: 'tcp or udp' },
        { name: 'index', kind: 'int', default: 0, usage: 'Index of the container if service has multiple replicas' },
      ],
      args: { min: 2, max: 2 },
    },
    async run(c, f, args) {
      const [service, privatePort] = args as [string, string];
      checkServices(c.project, [service]);
      const index = f.number('index') || 1;
      const list = await projectContainers(c.client, c.project.name, { services: [service] });
      const target = list.find((x) => Number(x.Labels?.['com.docker.compose.container-number']) === index);
      if (!target) throw new StatusError(1, `service "${service}" is not running`);
      const proto = f.string('protocol') || 'tcp';
      const found = (target.Ports ?? []).find((p) => String(p.PrivatePort) === privatePort && p.Type === proto && p.PublicPort);
      if (!found) throw new StatusError(1, `no port ${privatePort}/${proto} for container ${nameOf(target)}: ${(target.Ports ?? []).map((p) => `${p.IP ?? ''}:${p.PublicPort ?? ''}->${p.PrivatePort}/${p.Type}`).join(', ')}`);
      c.cli.out(`${found.IP ?? ''}:${found.PublicPort}`);
    },
  },
  ls: {
    noProject: true,
    spec: {
      use: '[OPTIONS]',
      short: 'List running compose projects',
      flags: [
        { name: 'all', short: 'a', kind: 'bool', usage: 'Show all stopped Compose projects' },
        { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display project names.' },
        { name: 'format', kind: 'string', default: 'table', usage: 'Format the output. Values: [table | json]' },
      ],
      args: { max: 0 },
    },
    async run(c, f) {
      const projects = await listProjects(c.client, f.bool('all'));
      if (f.bool('quiet')) { for (const p of projects) c.cli.out(p.name); return; }
      const format = f.string('format') || 'table';
      const rows = projects.map((p) => ({ Name: p.name, Status: p.status, ConfigFiles: p.configFiles }));
      if (format === 'json') { c.cli.out(JSON.stringify(rows)); return; }
      c.cli.stdout.write(renderList(rows, { format, defaultTable: '{{.Name}}\t{{.Status}}\t{{.ConfigFiles}}', headers: { Name: 'NAME', Status: 'STATUS', ConfigFiles: 'CONFIG FILES' } }));
    },
  },
  rm: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Removes stopped service containers',
      flags: [
        { name: 'force', short: 'f', kind: 'bool', usage: "Don't ask to confirm removal" },
        { name: 'stop', short: 's', kind: 'bool', usage: 'Stop the containers, if required, before removing' },
        { name: 'volumes', short: 'v', kind: 'bool', usage: 'Remove any anonymous volumes attached to containers' },
      ],
    },
    async run(c, f, args) {
      checkServices(c.project, args);
      const all = await projectContainers(c.client, c.project.name, { services: args });
      const candidates = f.bool('stop') ? all : all.filter((x) => !isActive(x));
      if (candidates.length === 0) {
        c.cli.err('No stopped containers');
        return 0;
      }
      if (!f.bool('force')) {
        c.cli.stdout.write(`Going to remove ${candidates.map(nameOf).join(', ')}\n`);
        if (!(await confirm(c.cli, 'Are you sure? [yN] '))) return 0;
      }
      await rm(c.ctx, args, { stop: f.bool('stop'), volumes: f.bool('volumes') });
    },
  },
  exec: {
    needsFile: false,
    spec: {
      use: '[OPTIONS] SERVICE COMMAND [ARGS...]',
      short: 'Execute a command in a running container',
      flags: [
        { name: 'detach', short: 'd', kind: 'bool', usage: 'Detached mode: Run command in the background' },
        { name: 'no-TTY', short: 'T', kind: 'bool', usage: 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.' },
        { name: 'env', short: 'e', kind: 'stringArray', usage: 'Set environment variables' },
        { name: 'user', short: 'u', kind: 'string', usage: 'Run the command as this user' },
        { name: 'workdir', short: 'w', kind: 'string', usage: 'Path to workdir directory for this command' },
        { name: 'index', kind: 'int', default: 0, usage: 'Index of the container if service has multiple replicas' },
        { name: 'privileged', kind: 'bool', usage: 'Give extended privileges to the process' },
        { name: 'interactive', short: 'i', kind: 'bool', default: true, usage: 'Keep STDIN open even if not attached' },
      ],
      args: { min: 2 },
      interspersed: false,
    },
    async run(c, f, args) {
      const [service, ...cmd] = args as [string, ...string[]];
      checkServices(c.project, [service]);
      const index = f.number('index') || 1;
      const list = (await projectContainers(c.client, c.project.name, { all: false, services: [service] }));
      const target = list.find((x) => Number(x.Labels?.['com.docker.compose.container-number']) === index) ?? (f.has('index') ? undefined : list[0]);
      if (!target) throw new StatusError(1, `service "${service}" is not running`);
      const tty = !f.bool('no-TTY') && c.cli.stdin.isTTY === true;
      const { exec } = await import('./exec.js');
      const values = {
        detach: f.bool('detach'), 'detach-keys': '', env: f.array('env'), 'env-file': [], interactive: f.bool('interactive') && !f.bool('detach'),
        privileged: f.bool('privileged'), tty, user: f.string('user'), workdir: f.string('workdir'),
      };
      return exec.run(c.cli, new Flags({ values, changed: new Set(), args: [], help: false }), [target.Id, ...cmd]);
    },
  },
  run: {
    spec: {
      use: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
      short: 'Run a one-off command on a service',
      flags: RUN_FLAGS,
      args: { min: 1 },
      interspersed: false,
    },
    async run(c, f, args) {
      return composeRun({ cli: c.cli, client: c.client, project: c.project, ctx: c.ctx, stopProgress: () => c.progress.stop() }, f, args);
    },
  },
  config: {
    spec: {
      use: '[OPTIONS] [SERVICE...]',
      short: 'Parse, resolve and render compose file in canonical format',
      flags: [
        { name: 'services', kind: 'bool', usage: 'Print the service names, one per line.' },
        { name: 'volumes', kind: 'bool', usage: 'Print the volume names, one per line.' },
        { name: 'networks', kind: 'bool', usage: 'Print the network names, one per line.' },
        { name: 'images', kind: 'bool', usage: 'Print the image names, one per line.' },
        { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only validate the configuration, don\'t print anything' },
        { name: 'format', kind: 'string', default: 'yaml', usage: 'Format the output. Values: [yaml | json]' },
        { name: 'output', short: 'o', kind: 'string', usage: 'Save to file (default to stdout)' },
      ],
    },
    async run(c, f) {
      if (f.bool('quiet')) return 0;
      const p = c.project;
      if (f.bool('services')) { for (const s of Object.keys(p.services)) c.cli.out(s); return 0; }
      if (f.bool('volumes')) { for (const v of Object.keys(p.volumes)) c.cli.out(v); return 0; }
      if (f.bool('networks')) { for (const n of Object.keys(p.networks)) c.cli.out(n); return 0; }
      if (f.bool('images')) { for (const s of Object.values(p.services)) c.cli.out(s.image); return 0; }
      const format = f.string('format') || 'yaml';
      if (format !== 'yaml' && format !== 'json') throw new StatusError(1, `unsupported format "${format}": use yaml or json`);
      const text = renderConfig(p, format);
      const output = f.string('output');
      if (output) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(output, text);
      } else c.cli.stdout.write(text);
      return 0;
    },
  },
};

/** up/create's --build/--no-build and --force-recreate/--no-recreate, each pair exclusive. */
function convergeModes(f: Flags): { build: 'always' | 'never' | 'missing'; recreate: 'force' | 'never' | 'diverged' } {
  if (f.bool('build') && f.bool('no-build')) throw new StatusError(1, '--build and --no-build are incompatible');
  if (f.bool('force-recreate') && f.bool('no-recreate')) throw new StatusError(1, '--force-recreate and --no-recreate are incompatible');
  return {
    build: f.bool('build') ? 'always' : f.bool('no-build') ? 'never' : 'missing',
    recreate: f.bool('force-recreate') ? 'force' : f.bool('no-recreate') ? 'never' : 'diverged',
  };
}

function applyScale(project: Project, specs: string[]): void {
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = spec.slice(0, eq);
    const num = spec.slice(eq + 1);
    const n = Number(num);
    const s = project.services[name];
    // Digits only: Number('') is 0, and `--scale web=` must not scale web down.
    if (eq < 0 || !/^\d+$/.test(num) || !Number.isSafeInteger(n)) throw new StatusError(1, `invalid --scale "${spec}": use SERVICE=NUM`);
    if (!s) throw new StatusError(1, `no such service: ${name}`);
    s.scale = n;
  }
}

function checkServices(project: Project, names: string[]): void {
  // Without a compose file (-p only) the names cannot be checked: compose filters by label then.
  if (project.configFiles.length === 0) return;
  for (const n of names) {
    if (!(n in project.services) && !(n in project.disabledServices)) throw new StatusError(1, `no such service: ${n}`);
  }
}

async function confirm(cli: Cli, question: string): Promise<boolean> {
  cli.stdout.write(question);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      if (buf.includes('\n')) done();
    };
    const done = (): void => { cli.stdin.off('data', onData); cli.stdin.off('end', done); cli.stdin.pause(); resolve(buf.split('\n')[0] ?? ''); };
    cli.stdin.on('data', onData);
    cli.stdin.once('end', done);
  });
  return /^y(es)?$/i.test(line.trim());
}

/** A `compose ps` row: docker's container row plus compose's Name, Service, Project, Health, ExitCode, Publishers. */
function composeRow(project: string, x: ContainerSummary, now: number, trunc: boolean): Record<string, unknown> {
  const base = containerRow(x, { trunc, now }) as unknown as Record<string, unknown>;
  const status = x.Status ?? '';
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1]?.replace('health: ', '') ?? '';
  const exit = /^Exited \((\d+)\)/.exec(status);
  return {
    Command: base.Command, CreatedAt: base.CreatedAt, ExitCode: exit ? Number(exit[1]) : 0, Health: health, ID: x.Id,
    Image: x.Image, Labels: base.Labels, LocalVolumes: base.LocalVolumes, Mounts: base.Mounts, Name: nameOf(x), Names: base.Names,
    Networks: base.Networks, Ports: base.Ports, Project: project,
    Publishers: (x.Ports ?? []).map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    RunningFor: base.RunningFor, Service: serviceOf(x), Size: 0, State: x.State, Status: status,
  };
}

/**
 * `up` without -d: every container's output, prefixed, until they all exit or Ctrl-C stops them
 * (a second Ctrl-C kills them). --abort-on-container-exit stops all at the first exit.
 */
async function attach(c: ComposeRun, ids: string[], o: { since: number; prefix: boolean; abortOnExit: boolean; exitCodeFrom?: string; timeout: number | undefined; only?: string[]; not?: string[] }): Promise<number> {
  const infos = await Promise.all(ids.map(async (id) => {
    const i = await c.client.containerInspect(id);
    const service = String((i.Config.Labels as Record<string, string> | undefined)?.['com.docker.compose.service'] ?? '');
    // --attach SERVICE: only those; --no-attach SERVICE: all but those. The others are still waited for.
    const attached = (!o.only?.length || o.only.includes(service)) && !o.not?.includes(service);
    return { id, name: i.Name.replace(/^\//, ''), tty: i.Config.Tty === true, service, attached };
  }));
  c.cli.stdout.write(`Attaching to ${infos.filter((i) => i.attached).map((i) => i.name).join(', ')}\n`);
  const width = prefixWidth(infos.filter((i) => i.attached));
  const abort = new AbortController();
  let stopping: Promise<void> | null = null;
  let code = 0;
  const stopAll = (): Promise<void> => {
    stopping ??= stop(c.ctx, [], o.timeout).finally(() => abort.abort());
    return stopping;
  };
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      c.cli.stderr.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      code = 130;
      void stopAll().catch((e: unknown) => warn(c.cli, (e as Error).message));
    } else {
      code = 130;
      void kill(c.ctx, [], 'SIGKILL').catch(() => undefined).finally(() => abort.abort());
    }
  };
  process.on('SIGINT', onSignal);
  const out: { stdout: Writable; stderr: Writable } = { stdout: c.cli.stdout, stderr: c.cli.stderr };
  try {
    await Promise.all(infos.map(async (i) => {
      if (i.attached) await streamContainerLogs(c.client, i, width, out, { follow: true, prefix: o.prefix, since: String(o.since), signal: abort.signal });
      else await c.client.containerWait(i.id, 'not-running', abort.signal).result.catch((e: unknown) => { if (!abort.signal.aborted) throw e; });
      if (abort.signal.aborted && interrupts > 0) return;
      const st = await c.client.containerInspect(i.id).then((x) => x.State, () => null);
      if (st && !st.Running) {
        c.cli.stdout.write(`${i.name} exited with code ${st.ExitCode}\n`);
        if (o.abortOnExit && !stopping) {
          code = st.ExitCode;
          c.cli.stdout.write('Aborting on container exit...\n');
          await stopAll();
        }
      }
    }));
    if (stopping) await stopping;
  } finally {
    process.off('SIGINT', onSignal);
  }
  if (o.exitCodeFrom && interrupts === 0) {
    const from = infos.find((i) => i.service === o.exitCodeFrom);
    if (from) return (await c.client.containerInspect(from.id)).State.ExitCode;
  }
  return code;
}

/** No compose file but -p: an empty project of that name (down, ps, logs, stop ... act by label). */
function emptyProject(name: string, cwd: string): Project {
  return { name, workingDir: cwd, configFiles: [], services: {}, disabledServices: {}, networks: {}, volumes: {}, environment: {} };
}

/** `path`: how the user called us, `hako compose` or (as the docker CLI's plugin) `docker compose`. */
function commandList(path: string): string {
  const rows: Array<[string, string]> = [...Object.entries(SUBS).map(([n, s]): [string, string] => [n, s.spec.short]), ['version', 'Show the Docker Compose version information']];
  const width = Math.max(...rows.map(([n]) => n.length)) + 2;
  const commands = rows.map(([n, short]) => `  ${n.padEnd(width)}${short}`).join('\n');
  return `Commands:\n${commands}\n\nRun '${path} COMMAND --help' for more information on a command.\n`;
}

function composeHelp(path: string): string {
  return `Usage:  ${path} [OPTIONS] COMMAND\n\nDefine and run multi-container applications with hako\n\nOptions:\n${new FlagSet(GLOBAL_FLAGS).usage()}\n\n${commandList(path)}`;
}

export const compose: Command = {
  spec: {
    use: '[OPTIONS] COMMAND',
    short: 'Define and run multi-container applications with hako',
    flags: GLOBAL_FLAGS,
    epilog: commandList,
    interspersed: false,
  },
  async run(cli, flags, args) {
    const [name, ...rest] = args;
    if (name === undefined || name === 'help') {
      cli.stdout.write(composeHelp(cli.commandPath));
      return 0;
    }
    if (name === 'version') {
      // One implementation with the docker CLI plugin's; it needs neither a project nor a daemon.
      const { composeVersion, packageVersion } = await import('./compose-plugin.js');
      return composeVersion(rest, packageVersion(), cli.stdout, cli.commandPath);
    }
    const sub = SUBS[name];
    if (!sub) throw new StatusError(1, `unknown command: ${cli.commandPath} ${name}\n\nRun '${cli.commandPath} --help' for more information`);
    const path = `${cli.commandPath} ${name}`;
    const set = new FlagSet(sub.spec.flags, { interspersed: sub.spec.interspersed ?? true });
    let parsed;
    try {
      parsed = set.parse(rest);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      throw new StatusError(1, `${e.message}\n\nUsage:  ${path} ${sub.spec.use}\n\nRun '${path} --help' for more information`);
    }
    if (parsed.help) {
      cli.stdout.write(commandHelp(path, sub.spec, set));
      return 0;
    }
    const argError = checkArgs(path, sub.spec, parsed.args.length);
    if (argError) throw new StatusError(1, argError.trimEnd());
    const subFlags = new Flags(parsed);
    const ansi = flags.string('ansi') || 'auto';
    if (!['auto', 'never', 'always'].includes(ansi)) throw new StatusError(1, `unsupported --ansi value "${ansi}": use never, always or auto`);
    if (flags.has('progress') && !['auto', 'tty', 'plain', 'quiet'].includes(flags.string('progress'))) {
      throw new StatusError(1, `unsupported --progress value "${flags.string('progress')}": use auto, tty, plain or quiet`);
    }
    const projectName = flags.string('project-name');
    let project: Project;
    if (sub.noProject) {
      const client = await cli.client();
      return (await sub.run(new ComposeRun(cli, client, emptyProject('', process.cwd()), plainProgress(cli.stderr, false)), subFlags, parsed.args)) ?? 0;
    }
    try {
      const loaded = await loadProject({
        files: flags.array('file'), ...(projectName ? { projectName } : {}),
        ...(flags.string('project-directory') ? { projectDirectory: flags.string('project-directory') } : {}),
        envFiles: flags.array('env-file'), profiles: flags.array('profile'),
        env: process.env, cwd: process.cwd(),
        stdin: async () => {
          const chunks: Buffer[] = [];
          for await (const ch of cli.stdin) chunks.push(ch as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        },
      });
      for (const w of loaded.warnings) warn(cli, w);
      project = loaded.project;
    } catch (e) {
      // down/ps/logs/stop... of a project named with -p work without its file, as compose's.
      if (sub.needsFile === false && projectName && flags.array('file').length === 0 && /^no configuration file provided/.test((e as Error).message)) {
        project = emptyProject(projectName, process.cwd());
      } else throw new StatusError(1, (e as Error).message);
    }
    const client = await cli.client();
    const mode = progressMode(flags.string('progress') || 'auto', ansi, (cli.stderr as { isTTY?: boolean }).isTTY === true);
    // up --quiet-pull / pull -q: compose's per-layer pull progress is left out (hako's events have none).
    const display = mode === 'tty' ? new TtyProgress(cli.stderr, { color: ansi !== 'never' && !process.env.NO_COLOR }) : plainProgress(cli.stderr, mode === 'quiet');
    const run = new ComposeRun(cli, client, project, display);
    try {
      return (await sub.run(run, subFlags, parsed.args)) ?? 0;
    } catch (e) {
      if (e instanceof StatusError) throw e;
      const err = e as Error & { status?: number };
      // compose prints errors bare (no "Error response from daemon:" for its own checks).
      throw new StatusError(1, err.name === 'ClientError' ? `Error response from daemon: ${err.message}` : err.message);
    } finally {
      display.stop();
    }
  },
};

