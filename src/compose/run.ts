/**
 * `compose run`: a one-off container of a service, as docker compose v2 makes it
 * (cmd/compose/run.go, pkg/compose/run.go): named `<project>-<service>-run-<12 hex>`, labelled
 * `com.docker.compose.oneoff=True` (+ `com.docker.compose.slug`), its dependencies started first
 * (and their conditions awaited) unless --no-deps, the service's ports published only with
 * --service-ports (or those of -p), no restart policy, no network aliases. Attaching to it is the
 * CLI's (it reuses `hako run`'s attach code); this creates the container and answers its id.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgument } from '../errdefs/index.js';
import type { Port, Service } from './model.js';
import { createBody, networkName, orderedNetworks } from './create-body.js';
import { ensureImages, ensureNetworks, ensureVolumes, imageIdOf, projectContainers, removeContainers, selectServices, serviceOf, up, waitDependencies, type ComposeContext } from './converge.js';
import { withDependencies } from './order.js';
import { ONEOFF_LABEL } from './labels.js';
import { parsePortShort, SyntaxError_ } from './loader/syntax.js';
import { shellSplit } from './loader/units.js';
import { checkInjectable, injectFiles } from './inject.js';
import { parseDotenv } from './loader/dotenv.js';

export const SLUG_LABEL = 'com.docker.compose.slug';

export interface OneOffOptions {
  service: string;
  /** The command; empty: the service's. */
  command: string[];
  /** `--entrypoint`: a command line, split as a shell does ("" clears the image's). */
  entrypoint?: string;
  /** `-e K=V` / `-e K` (from the host environment). */
  env?: string[];
  labels?: string[];
  user?: string;
  workdir?: string;
  name?: string;
  noDeps?: boolean;
  servicePorts?: boolean;
  /** `-p` short syntaxes; replace the service's ports. */
  publish?: string[];
  /** `-v` binds / volumes, docker's short syntax (a relative host path is the project dir's). */
  volumes?: string[];
  build?: boolean;
  /** `--rm`: the engine removes the container when it exits. */
  rm?: boolean;
  tty: boolean;
  /** Keep stdin open (compose's -i, default true). */
  interactive: boolean;
  detach?: boolean;
  /** `--use-aliases`: the service's network aliases for the one-off too. */
  useAliases?: boolean;
  /** `--quiet-pull`: no layer progress for what is pulled. */
  quietPull?: boolean;
  /** `--cap-add` / `--cap-drop`: added to the service's. */
  capAdd?: string[];
  capDrop?: string[];
  /** `--pull`: overrides the service's pull_policy ("policy": its own). */
  pull?: 'always' | 'missing' | 'never' | 'policy';
  /** `--remove-orphans`: containers of services the files no longer define are removed first. */
  removeOrphans?: boolean;
  /** `--env-from-file`: absolute paths of dotenv files, read in order; `env` goes over them. */
  envFiles?: string[];
}

/** The service as the one-off runs it: run options over the service (compose's applyRunOptions). */
export function oneOffService(s: Service, o: OneOffOptions, hostEnv: Record<string, string | undefined>): Service {
  let ports: Port[] = o.servicePorts ? s.ports : [];
  if (o.publish && o.publish.length > 0) {
    try {
      ports = o.publish.flatMap((p) => parsePortShort(p));
    } catch (e) {
      if (e instanceof SyntaxError_) throw new InvalidArgument(`invalid --publish: ${e.message}`);
      throw e;
    }
  }
  const environment = { ...s.environment };
  for (const file of o.envFiles ?? []) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InvalidArgument(`--env-from-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    try {
      for (const [k, v] of parseDotenv(text, (k) => hostEnv[k])) environment[k] = v;
    } catch (e) {
      throw new InvalidArgument(`--env-from-file ${file}: ${(e as Error).message}`);
    }
  }
  for (const kv of o.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new InvalidArgument(`invalid environment variable "${kv}": use KEY=VALUE or KEY`);
    if (eq < 0) environment[kv] = hostEnv[kv] ?? null;
    else environment[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const labels = { ...s.labels };
  for (const kv of o.labels ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new InvalidArgument(`invalid label "${kv}": a label must be set as KEY=VALUE`);
    labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    ...s,
    ports, environment, labels,
    capAdd: [...s.capAdd, ...(o.capAdd ?? []).filter((c) => !s.capAdd.includes(c))],
    capDrop: [...s.capDrop, ...(o.capDrop ?? []).filter((c) => !s.capDrop.includes(c))],
    // An --entrypoint without a command clears the service's command too (compose's applyRunOptions).
    command: o.command.length > 0 ? o.command : o.entrypoint !== undefined ? [] : s.command,
    entrypoint: o.entrypoint !== undefined ? shellSplit(o.entrypoint) : s.entrypoint,
    user: o.user || s.user,
    workingDir: o.workdir || s.workingDir,
    tty: o.tty,
    stdinOpen: o.interactive,
    restart: 'no',
    scale: 1,
    // The one-off's name never is the service's container_name.
    containerName: null,
  };
}

/** `<project>-<service>-run-<12 hex>`, as compose's (stringid.TruncateID of a random slug). */
export function oneOffName(project: string, service: string, slug: string): string {
  return `${project}-${service}-run-${slug.slice(0, 12)}`;
}

/** Dependencies started (unless noDeps), the image there, then the one-off created. Answers its id and name. */
export async function createOneOff(ctx: ComposeContext, o: OneOffOptions): Promise<{ id: string; name: string }> {
  const { client, project } = ctx;
  const all = { ...project.disabledServices, ...project.services };
  const base = selectServices(project, [o.service])[o.service]!;
  checkInjectable([base]);
  if (o.removeOrphans) {
    const known = new Set(Object.keys(all));
    const orphans = (await projectContainers(client, project.name)).filter((c) => !known.has(serviceOf(c)));
    if (orphans.length > 0) await removeContainers(ctx, orphans, { stop: true });
  }
  if (!o.noDeps) {
    const deps = withDependencies(all, [o.service]).filter((n) => n !== o.service);
    if (deps.length > 0) {
      // compose's startDependencies: `up` of what the service needs, without recreating what runs.
      await up(ctx, { services: deps, noDeps: true, recreate: 'diverged', quietPull: o.quietPull ?? false });
      await waitDependencies(ctx, base, selectServices(project, deps));
    }
  }
  const s = oneOffService(base, o, ctx.hostEnv);
  await ensureNetworks(ctx, s.networkMode === null ? Object.keys(s.networks) : []);
  await ensureVolumes(ctx, s.volumes.filter((m) => m.type === 'volume' && m.source !== null).map((m) => m.source as string));
  await ensureImages(ctx, [s], o.build ? 'always' : 'missing', { quietPull: o.quietPull ?? false, ...(o.pull ? { pullPolicy: o.pull } : {}) });
  const image = (await imageIdOf(client, s.image)) ?? '';
  const slug = randomBytes(32).toString('hex');
  const name = o.name || oneOffName(project.name, s.name, slug);
  const running = await projectContainers(client, project.name, { all: false });
  const containerOf = (svc: string): string => {
    const c = running.find((x) => serviceOf(x) === svc);
    if (!c) throw new InvalidArgument(`service "${svc}" has no running container to share with the one-off: start it first`);
    return c.Id;
  };
  const { body } = createBody({ project, service: s, number: 1, imageId: image, hostEnv: ctx.hostEnv, containerOf, name });
  const labels = body.Labels as Record<string, string>;
  labels[ONEOFF_LABEL] = 'True';
  labels[SLUG_LABEL] = slug;
  const attach = !o.detach;
  Object.assign(body, { AttachStdin: attach && o.interactive, AttachStdout: attach, AttachStderr: attach, OpenStdin: o.interactive, StdinOnce: o.interactive && attach });
  const host = body.HostConfig as Record<string, unknown>;
  host.AutoRemove = o.rm === true;
  if (o.volumes && o.volumes.length > 0) {
    host.Binds = [...(host.Binds as string[]), ...o.volumes.map((v) => bindOf(v, project.workingDir))];
  }
  const endpoints = (body.NetworkingConfig as { EndpointsConfig: Record<string, { Aliases?: string[] }> }).EndpointsConfig;
  if (!o.useAliases) for (const e of Object.values(endpoints)) delete e.Aliases;
  const created = await client.containerCreate(body, { name });
  for (const w of created.Warnings ?? []) ctx.progress.warn(w);
  await injectFiles(client, created.Id, s.files);
  if (s.networkMode === null) {
    for (const key of orderedNetworks(s).slice(1)) {
      await client.networkConnect(networkName(project, key), { Container: created.Id, EndpointConfig: o.useAliases ? { Aliases: [s.name] } : {} });
    }
  }
  return { id: created.Id, name };
}

/** `-v SRC:DST[:MODE]`: a relative host path is the project directory's (compose's). */
function bindOf(spec: string, workingDir: string): string {
  const parts = spec.split(':');
  if (parts.length < 2) return spec;
  const src = parts[0]!;
  if (src.startsWith('.')) parts[0] = resolve(workingDir, src);
  else if (src.startsWith('~') && process.env.HOME) parts[0] = resolve(process.env.HOME, src.slice(2));
  else if (!isAbsolute(src) && src.includes('/')) throw new InvalidArgument(`invalid volume "${spec}": a host path must be absolute or start with ./`);
  return parts.join(':');
}
