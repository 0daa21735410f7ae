/**
 * Convergence: make the engine match a Project, as docker compose v2 does (pkg/compose/create.go,
 * convergence.go, start.go, down.go): networks and volumes `<project>_<key>`, images pulled or
 * built, containers `<project>-<service>-<n>` created in dependency order with compose's labels,
 * recreated only when their config hash or image changed, then started in dependency order,
 * waiting for each dependency's condition. Everything goes through the typed API client, so the
 * same code drives hakod or a dockerd.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Client, ContainerSummary, Json } from '../client/index.js';
import { jsonLines } from '../client/index.js';
import { packBuildContext } from '../archive/index.js';
import { Conflict, InvalidArgument, NotFound } from '../errdefs/index.js';
import type { Project, Service } from './model.js';
import { createBody, endpointConfig, networkName, orderedNetworks, serviceHash, withContainerRefs } from './create-body.js';
import { dependencyLevels, restartDependents, withDependencies } from './order.js';
import { awaitContainers, completedVerdict, healthyVerdict, runningVerdict } from './wait.js';
import {
  COMPOSE_VERSION, CONFIG_HASH_LABEL, CONTAINER_NUMBER_LABEL, IMAGE_LABEL, NETWORK_LABEL, ONEOFF_LABEL, PROJECT_LABEL,
  SERVICE_LABEL, VERSION_LABEL, VOLUME_LABEL, containerName,
} from './labels.js';
import { checkInjectable, injectFiles } from './inject.js';

/** What convergence reports: compose's progress events (" Container p-web-1  Started") and warnings. */
export interface Progress {
  event(id: string, status: string): void;
  warn(message: string): void;
  /** Build output as the builder streams it. */
  buildOutput(text: string): void;
  /** A layer of an image being pulled for `parent` (a service): "Downloading", "Pull complete" … */
  layer?(parent: string, id: string, text: string): void;
}

export interface ComposeContext {
  client: Client;
  project: Project;
  /** For environment entries without a value, and `${VAR}` left to the engine side. */
  hostEnv: Record<string, string | undefined>;
  progress: Progress;
}

export interface UpOptions {
  /** Services named on the command line (with their dependencies); all when empty. */
  services?: string[];
  /** `--no-deps`: only the services named, not what they depend on. */
  noDeps?: boolean;
  /** `--build`: always; `--no-build`: never; else when the image is missing. */
  build?: 'always' | 'never' | 'missing';
  /** `--force-recreate` | `--no-recreate` | compose's default (when the config changed). */
  recreate?: 'force' | 'never' | 'diverged';
  removeOrphans?: boolean;
  /** Stop timeout in seconds for recreated and scaled-down containers. */
  timeout?: number;
  /** false for `create`: containers are made but not started. */
  start?: boolean;
  /** `--wait`: wait until services are running/healthy. */
  wait?: boolean;
  /** `--wait-timeout` in seconds: `--wait` fails after it. */
  waitTimeout?: number;
  /** `--pull`: always | missing | never, over the services' pull_policy. */
  pull?: 'always' | 'missing' | 'never' | 'policy';
  /** `--quiet-pull`: pulls without their layers' progress. */
  quietPull?: boolean;
  signal?: AbortSignal;
}

const cid = (c: { Names?: string[]; Name?: string }): string => (c.Names?.[0] ?? c.Name ?? '').replace(/^\//, '');

/** A container that holds its process (compose stops these before removing them). */
export function isActive(c: { State: string }): boolean {
  return c.State === 'running' || c.State === 'restarting' || c.State === 'paused';
}

function isStatus(e: unknown, status: number): boolean {
  return (e as { status?: number } | null)?.status === status;
}

/** Every container of the project (one-off `run` containers left out unless `oneOff`), optionally of some services. */
export async function projectContainers(client: Client, project: string, opts: { all?: boolean; services?: string[]; oneOff?: boolean } = {}): Promise<ContainerSummary[]> {
  const list = await client.containerList({ all: opts.all ?? true, filters: { label: [`${PROJECT_LABEL}=${project}`] } });
  return list
    .filter((c) => opts.oneOff === true || c.Labels?.[ONEOFF_LABEL] !== 'True')
    .filter((c) => !opts.services || opts.services.length === 0 || opts.services.includes(c.Labels?.[SERVICE_LABEL] ?? ''))
    .sort((a, b) => serviceOf(a).localeCompare(serviceOf(b)) || numberOf(a) - numberOf(b));
}

export function serviceOf(c: ContainerSummary): string {
  return c.Labels?.[SERVICE_LABEL] ?? '';
}

export function numberOf(c: ContainerSummary): number {
  return Number(c.Labels?.[CONTAINER_NUMBER_LABEL] ?? 0);
}

/** The services to act on: those named (checked to exist, inactive profiles activated) or all. */
export function selectServices(project: Project, names: string[] = []): Record<string, Service> {
  if (names.length === 0) return project.services;
  const out: Record<string, Service> = {};
  for (const n of names) {
    const s = project.services[n] ?? project.disabledServices[n];
    if (!s) throw new NotFound(`no such service: ${n}`);
    out[n] = s;
  }
  return out;
}

// --- networks and volumes ---------------------------------------------------------------------

export async function ensureNetworks(ctx: ComposeContext, keys: Iterable<string>): Promise<void> {
  const { client, project, progress } = ctx;
  for (const key of [...new Set(keys)].sort()) {
    const n = project.networks[key];
    if (!n) throw new InvalidArgument(`service refers to undefined network ${key}: define it under the top-level networks:`);
    let existing: Json | null = null;
    try {
      existing = await client.networkInspect(n.name);
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
    if (n.external) {
      if (!existing) throw new NotFound(`network ${n.name} declared as external, but could not be found`);
      continue;
    }
    if (existing) {
      const labels = (existing.Labels as Record<string, string> | null) ?? {};
      if (labels[PROJECT_LABEL] !== project.name) {
        progress.warn(`a network with name ${n.name} exists but was not created for project "${project.name}".\nSet \`external: true\` to use an existing network`);
      }
      continue;
    }
    const id = `Network ${n.name}`;
    progress.event(id, 'Creating');
    const ipam = n.ipam.config.map((c) => ({
      ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ipRange ? { IPRange: c.ipRange } : {}),
      ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.auxAddresses ? { AuxiliaryAddresses: c.auxAddresses } : {}),
    }));
    await client.networkCreate({
      Name: n.name, Driver: n.driver, Options: n.driverOpts, Internal: n.internal, Attachable: n.attachable,
      EnableIPv6: n.enableIpv6, CheckDuplicate: true,
      IPAM: { Driver: n.ipam.driver ?? 'default', Config: ipam, Options: {} },
      Labels: { ...n.labels, [PROJECT_LABEL]: project.name, [NETWORK_LABEL]: key, [VERSION_LABEL]: COMPOSE_VERSION },
    });
    progress.event(id, 'Created');
  }
}

export async function ensureVolumes(ctx: ComposeContext, keys: Iterable<string>): Promise<void> {
  const { client, project, progress } = ctx;
  for (const key of [...new Set(keys)].sort()) {
    const v = project.volumes[key];
    if (!v) throw new InvalidArgument(`service refers to undefined volume ${key}: define it under the top-level volumes:`);
    let exists = true;
    try {
      await client.volumeInspect(v.name);
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
      exists = false;
    }
    if (v.external) {
      if (!exists) throw new NotFound(`external volume "${v.name}" not found`);
      continue;
    }
    if (exists) continue;
    const id = `Volume ${JSON.stringify(v.name)}`;
    progress.event(id, 'Creating');
    await client.volumeCreate({
      Name: v.name, Driver: v.driver, DriverOpts: v.driverOpts,
      Labels: { ...v.labels, [PROJECT_LABEL]: project.name, [VOLUME_LABEL]: key, [VERSION_LABEL]: COMPOSE_VERSION },
    });
    progress.event(id, 'Created');
  }
}

// --- images -----------------------------------------------------------------------------------

/** "reg:5000/a/b:tag" -> ["reg:5000/a/b", "tag"]; digests stay in the name. */
export function splitTag(ref: string): [string, string | undefined] {
  if (ref.includes('@')) return [ref, undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, 'latest'];
}

export async function imageIdOf(client: Client, ref: string): Promise<string | null> {
  try {
    return String((await client.imageInspect(ref)).Id ?? '');
  } catch (e) {
    if (isStatus(e, 404)) return null;
    throw e;
  }
}

/** Pulls a service's image; its layers' progress is reported unless `quiet` (`--quiet-pull`, `pull -q`). */
export async function pullImage(ctx: ComposeContext, service: Service, opts: { quiet?: boolean } = {}): Promise<void> {
  const id = service.name;
  ctx.progress.event(id, 'Pulling');
  const [name, tag] = splitTag(service.image);
  const res = await ctx.client.imagePull(name, tag);
  for await (const msg of jsonLines(res)) {
    if (msg.error || msg.errorDetail?.message) {
      ctx.progress.event(id, 'Error');
      throw new NotFound(msg.errorDetail?.message ?? msg.error ?? `pull of ${service.image} failed`);
    }
    // Layer lines ("Pulling fs layer", "Downloading", "Pull complete"), not the image's own
    // ("Pulling from library/x" with the tag as id, "Digest:", "Status:").
    if (!opts.quiet && msg.id && msg.status && !msg.status.startsWith('Pulling from') && ctx.progress.layer) {
      ctx.progress.layer(id, msg.id, msg.status);
    }
  }
  ctx.progress.event(id, 'Pulled');
}

export interface BuildOptions {
  noCache?: boolean;
  pull?: boolean;
  signal?: AbortSignal;
  /** `up --pull`: overrides the services' pull_policy for images that are pulled ("policy": theirs). */
  pullPolicy?: 'always' | 'missing' | 'never' | 'policy';
  /** `--quiet-pull`: no layer progress. */
  quietPull?: boolean;
}

/** POST /build of a service's `build:`, tagged with its image name and `build.tags`. */
export async function buildService(ctx: ComposeContext, service: Service, opts: BuildOptions = {}): Promise<void> {
  const b = service.build;
  if (!b) return;
  if (/^[a-z]+:\/\//.test(b.context) || b.context.startsWith('git@')) {
    throw new InvalidArgument(`service "${service.name}": build context ${b.context} is a URL: hako builds from local directories only`);
  }
  if (b.extraHosts.length > 0) ctx.progress.warn(`service "${service.name}": build.extra_hosts is not supported by hako's builder yet; ignored`);
  if (b.shmSize !== null) ctx.progress.warn(`service "${service.name}": build.shm_size is not supported by hako's builder yet; ignored`);
  let dockerfile = b.dockerfile || 'Dockerfile';
  let extra: { name: string; content: Buffer } | null = null;
  if (b.dockerfileInline !== null) {
    extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: Buffer.from(b.dockerfileInline) };
    dockerfile = extra.name;
  } else {
    const abs = isAbsolute(dockerfile) ? dockerfile : join(b.context, dockerfile);
    const rel = relative(b.context, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: await readFile(abs) };
      dockerfile = extra.name;
    } else dockerfile = rel.split(sep).join('/');
  }
  const context = await packBuildContext(b.context, dockerfile, extra);
  const res = await ctx.client.imageBuild(context, {
    tags: [service.image, ...b.tags], dockerfile, buildArgs: resolveArgs(b.args, ctx.hostEnv), labels: b.labels,
    noCache: opts.noCache || b.noCache, pull: opts.pull || b.pull, cacheFrom: b.cacheFrom,
    ...(b.target ? { target: b.target } : {}), ...(b.network ? { networkMode: b.network } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  for await (const msg of jsonLines(res)) {
    if (msg.error || msg.errorDetail?.message) {
      throw new InvalidArgument(`service "${service.name}" failed to build: ${msg.errorDetail?.message ?? msg.error}`);
    }
    if (typeof msg.stream === 'string') ctx.progress.buildOutput(msg.stream);
  }
  ctx.progress.event(`Service ${service.name}`, 'Built');
}

function resolveArgs(args: Record<string, string | null>, env: Record<string, string | undefined>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(args)) out[k] = v ?? env[k] ?? null;
  return out;
}

/** Pull or build what each service needs, per its pull_policy and the build mode. */
export async function ensureImages(ctx: ComposeContext, services: Service[], mode: 'always' | 'never' | 'missing', opts: BuildOptions = {}): Promise<void> {
  for (const s of services) {
    const present = (await imageIdOf(ctx.client, s.image)) !== null;
    if (s.build) {
      if (mode === 'always' || s.pullPolicy === 'build' || (!present && mode !== 'never')) {
        await buildService(ctx, s, opts);
        continue;
      }
      if (!present) throw new NotFound(`service "${s.name}" has neither an image nor a build context specified: image ${s.image} is missing and --no-build was given`);
      continue;
    }
    const policy = opts.pullPolicy && opts.pullPolicy !== 'policy' ? opts.pullPolicy : s.pullPolicy;
    if (policy === 'always' || (!present && policy !== 'never')) await pullImage(ctx, s, { quiet: opts.quietPull ?? false });
    else if (!present) throw new NotFound(`No such image: ${s.image} (pull policy: never)`);
  }
}

// --- containers -------------------------------------------------------------------------------

interface Plan {
  /** What starting needs of the service: the dependencies to wait for. */
  service: Pick<Service, 'name' | 'dependsOn'>;
  /** Containers to start at the end, in number order. */
  containers: string[];
  /** Containers this run created or recreated (the rest existed before). */
  fresh?: string[];
  /** Whether this run replaced containers that existed (a new config or image). */
  recreated?: boolean;
}

/**
 * `up`/`create`: networks, volumes, images, then the containers of each service in dependency
 * order (created or recreated), then started with the dependencies' conditions awaited.
 */
export async function up(ctx: ComposeContext, opts: UpOptions = {}): Promise<string[]> {
  const { client, project, progress } = ctx;
  const named = opts.services ?? [];
  const names = named.length === 0 ? Object.keys(project.services)
    : opts.noDeps ? named : withDependencies({ ...project.disabledServices, ...project.services }, named);
  const services = selectServices(project, names);
  const levels = dependencyLevels(services, { ...project.disabledServices, ...project.services });
  const existing = await projectContainers(client, project.name);
  const known = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]);
  const orphans = existing.filter((c) => !known.has(serviceOf(c)));
  if (orphans.length > 0) {
    if (opts.removeOrphans) await removeContainers(ctx, orphans, { timeout: opts.timeout, stop: true });
    else progress.warn(`Found orphan containers ([${orphans.map(cid).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  const svcList = Object.values(services);
  checkInjectable(svcList);
  await ensureNetworks(ctx, svcList.filter((s) => s.networkMode === null).flatMap((s) => Object.keys(s.networks)));
  await ensureVolumes(ctx, svcList.flatMap((s) => s.volumes.filter((m) => m.type === 'volume' && m.source !== null).map((m) => m.source as string)));
  await ensureImages(ctx, svcList, opts.build ?? 'missing', { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.pull ? { pullPolicy: opts.pull } : {}), quietPull: opts.quietPull ?? false });

  const firstOf = new Map<string, string>();
  const containerOf = (svc: string): string => {
    const id = firstOf.get(svc) ?? existing.find((c) => serviceOf(c) === svc && c.State === 'running')?.Id;
    if (!id) throw new NotFound(`service "${svc}" has no container to share: start it first`);
    return id;
  };
  const plans: Plan[] = [];
  for (const level of levels) {
    for (const name of level) {
      const s = services[name]!;
      const plan = await convergeService(ctx, s, existing.filter((c) => serviceOf(c) === name), opts, containerOf);
      if (plan.containers[0]) firstOf.set(name, plan.containers[0]);
      plans.push(plan);
    }
  }
  if (opts.start === false) return plans.flatMap((p) => p.containers);
  await startPlans(ctx, plans, services);
  await restartDependentsOf(ctx, plans, opts.timeout);
  if (opts.wait) {
    await waitRunning(ctx, plans, {
      ...(opts.waitTimeout !== undefined && opts.waitTimeout > 0 ? { timeoutMs: opts.waitTimeout * 1000 } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
  return plans.flatMap((p) => p.containers);
}

async function convergeService(ctx: ComposeContext, s: Service, current: ContainerSummary[], opts: UpOptions, containerOf: (svc: string) => string): Promise<Plan> {
  const { client, project, progress } = ctx;
  const image = (await imageIdOf(client, s.image)) ?? '';
  const hash = serviceHash(withContainerRefs(s, containerOf), ctx.hostEnv);
  const sorted = [...current].sort((a, b) => numberOf(a) - numberOf(b));
  if (s.containerName !== null && s.scale > 1) throw new InvalidArgument(`service "${s.name}": container_name "${s.containerName}" cannot be used with scale ${s.scale}: a container name must be unique`);
  // Scale down: the highest numbers go first, as compose's.
  const keep = sorted.slice(0, s.scale);
  const extra = sorted.slice(s.scale);
  if (extra.length > 0) await removeContainers(ctx, extra.reverse(), { timeout: opts.timeout, stop: true });
  const result: string[] = [];
  const fresh: string[] = [];
  const taken = new Set(keep.map(numberOf));
  for (const c of keep) {
    const diverged = c.Labels?.[CONFIG_HASH_LABEL] !== hash || (image !== '' && c.Labels?.[IMAGE_LABEL] !== image);
    const recreate = opts.recreate === 'force' || (opts.recreate !== 'never' && diverged);
    if (!recreate) {
      if (c.State === 'running') progress.event(`Container ${cid(c)}`, 'Running');
      result.push(c.Id);
      continue;
    }
    // As compose's recreateContainer: the new container is made under a temporary name first
    // (so a create that fails leaves the old one), then the old one goes and the new one takes its name.
    const id = `Container ${cid(c)}`;
    progress.event(id, 'Recreate');
    const inherit = anonymousVolumes(c);
    const newId = await createContainer(ctx, s, numberOf(c), image, containerOf, { name: `${c.Id.slice(0, 12)}_${cid(c)}`, inherit });
    if (isActive(c)) {
      const t = stopTimeout(s, opts.timeout);
      await client.containerStop(c.Id, t !== undefined ? { timeout: t } : {});
    }
    await client.containerRemove(c.Id, { force: true });
    await client.containerRename(newId, containerName(project.name, s, numberOf(c)));
    progress.event(id, 'Recreated');
    result.push(newId);
    fresh.push(newId);
  }
  let n = 1;
  for (let i = keep.length; i < s.scale; i++) {
    while (taken.has(n)) n++;
    taken.add(n);
    const id = `Container ${containerName(project.name, s, n)}`;
    progress.event(id, 'Creating');
    const created = await createContainer(ctx, s, n, image, containerOf);
    result.push(created);
    fresh.push(created);
    progress.event(id, 'Created');
  }
  return { service: s, containers: result, fresh, recreated: fresh.length > 0 && keep.some((c) => !result.includes(c.Id)) };
}

function stopTimeout(s: Service, timeout: number | undefined): number | undefined {
  return timeout ?? (s.stopGracePeriod !== null ? Math.round(s.stopGracePeriod) : undefined);
}

/** Volumes of a container that are not named in the project: 64-hex anonymous ones. */
function anonymousVolumes(c: ContainerSummary): Array<{ name: string; target: string }> {
  return (c.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && /^[0-9a-f]{64}$/.test(m.Name ?? '') && m.Destination)
    .map((m) => ({ name: m.Name as string, target: m.Destination as string }));
}

async function createContainer(ctx: ComposeContext, s: Service, number: number, image: string, containerOf: (svc: string) => string, as: { name?: string; inherit?: Array<{ name: string; target: string }> } = {}): Promise<string> {
  const { client, project } = ctx;
  const { name, body } = createBody({ project, service: s, number, imageId: image, hostEnv: ctx.hostEnv, containerOf, ...as });
  let created;
  try {
    created = await client.containerCreate(body, { name });
  } catch (e) {
    if (isStatus(e, 409)) throw new Conflict(`${(e as Error).message}: remove that container, or give the service another container_name`);
    throw e;
  }
  for (const w of created.Warnings ?? []) ctx.progress.warn(w);
  await injectFiles(client, created.Id, s.files);
  // The first network went with the create; the others are connected before the start.
  if (s.networkMode === null) {
    for (const key of orderedNetworks(s).slice(1)) {
      await client.networkConnect(networkName(project, key), { Container: created.Id, EndpointConfig: endpointConfig(project, s, key, number) });
    }
  }
  return created.Id;
}

async function startPlans(ctx: ComposeContext, plans: Plan[], services: Record<string, Service>): Promise<void> {
  const { client, progress } = ctx;
  for (const plan of plans) {
    await waitDependencies(ctx, plan.service, services);
    for (const id of plan.containers) {
      const c = await client.containerInspect(id);
      if (c.State.Running) continue;
      const name = `Container ${c.Name.replace(/^\//, '')}`;
      progress.event(name, 'Starting');
      await client.containerStart(id);
      progress.event(name, 'Started');
    }
  }
}

/**
 * compose's waitDependencies: service_healthy / service_completed_successfully of what a service
 * depends on, followed through the engine's events (wait.ts).
 */
export async function waitDependencies(ctx: ComposeContext, s: Pick<Service, 'name' | 'dependsOn'>, services: Record<string, Service>, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const { client, project, progress } = ctx;
  for (const [dep, cond] of Object.entries(s.dependsOn)) {
    if (cond.condition === 'service_started' || !(dep in services)) continue;
    const containers = await projectContainers(client, project.name, { services: [dep] });
    await awaitContainers(client, project.name, containers.map((c) => c.Id), cond.condition === 'service_healthy' ? healthyVerdict : completedVerdict(dep), {
      ...opts,
      onWaiting: (_id, name) => progress.event(`Container ${name}`, 'Waiting'),
      onDone: (_id, name, status) => progress.event(`Container ${name}`, status),
      onError: (_id, name) => progress.event(`Container ${name}`, 'Error'),
    });
  }
}

/** `up --wait`: every container running (and healthy when it has a health check). */
async function waitRunning(ctx: ComposeContext, plans: Plan[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  await awaitContainers(ctx.client, ctx.project.name, plans.flatMap((p) => p.containers), runningVerdict, {
    ...opts,
    onWaiting: (_id, name) => ctx.progress.event(`Container ${name}`, 'Waiting'),
    onDone: (_id, name, status) => ctx.progress.event(`Container ${name}`, status),
    onError: (_id, name) => ctx.progress.event(`Container ${name}`, 'Error'),
  });
}

/**
 * depends_on's `restart: true`: the running containers of services that declared it on a service
 * this `up` recreated are restarted (dependencies first), as compose does, so they reconnect.
 */
async function restartDependentsOf(ctx: ComposeContext, plans: Plan[], timeout: number | undefined): Promise<void> {
  const recreated = plans.filter((p) => p.recreated === true).map((p) => p.service.name);
  if (recreated.length === 0) return;
  const all = { ...ctx.project.disabledServices, ...ctx.project.services };
  const dependents = restartDependents(all, recreated);
  if (dependents.length === 0) return;
  const fresh = new Set(plans.flatMap((p) => p.fresh ?? []));
  const containers = (await projectContainers(ctx.client, ctx.project.name, { all: false, services: dependents })).filter((c) => !fresh.has(c.Id));
  await restartInOrder(ctx, containers, timeout);
}

// --- stop, start, down ------------------------------------------------------------------------

/** Containers in the reverse of their services' dependency order (dependents first). */
function reverseOrder(project: Project, containers: ContainerSummary[]): ContainerSummary[][] {
  const levels = dependencyLevels({ ...project.disabledServices, ...project.services }).reverse();
  const out = levels.map((l) => containers.filter((c) => l.includes(serviceOf(c))));
  const rest = containers.filter((c) => !levels.some((l) => l.includes(serviceOf(c))));
  return [rest, ...out].filter((l) => l.length > 0);
}

export async function removeContainers(ctx: ComposeContext, containers: ContainerSummary[], opts: { timeout?: number | undefined; stop?: boolean; volumes?: boolean }): Promise<void> {
  await Promise.all(containers.map(async (c) => {
    const id = `Container ${cid(c)}`;
    if (opts.stop && isActive(c)) {
      progress(ctx, id, 'Stopping');
      await ctx.client.containerStop(c.Id, opts.timeout !== undefined ? { timeout: opts.timeout } : {});
      progress(ctx, id, 'Stopped');
    }
    progress(ctx, id, 'Removing');
    try {
      await ctx.client.containerRemove(c.Id, { force: true, volumes: opts.volumes ?? false });
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
    progress(ctx, id, 'Removed');
  }));
}

function progress(ctx: ComposeContext, id: string, status: string): void {
  ctx.progress.event(id, status);
}

export async function stop(ctx: ComposeContext, services: string[] = [], timeout?: number): Promise<void> {
  const all = await projectContainers(ctx.client, ctx.project.name, { services });
  for (const level of reverseOrder(ctx.project, all)) {
    await Promise.all(level.filter(isActive).map(async (c) => {
      const id = `Container ${cid(c)}`;
      ctx.progress.event(id, 'Stopping');
      await ctx.client.containerStop(c.Id, timeout !== undefined ? { timeout } : {});
      ctx.progress.event(id, 'Stopped');
    }));
  }
}

export async function start(ctx: ComposeContext, services: string[] = []): Promise<void> {
  const selected = selectServices(ctx.project, services);
  const all = await projectContainers(ctx.client, ctx.project.name, { services });
  if (all.length === 0) throw new NotFound('service(s) have no containers to start: run `hako compose up` to create them');
  const plans: Plan[] = [];
  for (const level of dependencyLevels(selected, { ...ctx.project.disabledServices, ...ctx.project.services })) {
    for (const name of level) plans.push({ service: selected[name]!, containers: all.filter((c) => serviceOf(c) === name).map((c) => c.Id) });
  }
  // Containers of services the project does not list (no compose file, -p only): started last.
  const rest = all.filter((c) => !(serviceOf(c) in selected));
  for (const svc of [...new Set(rest.map(serviceOf))]) {
    plans.push({ service: { name: svc, dependsOn: {} }, containers: rest.filter((c) => serviceOf(c) === svc).map((c) => c.Id) });
  }
  await startPlans(ctx, plans, selected);
}

/**
 * `restart [SERVICE...]`: dependencies first; the services that declared `restart: true` on a
 * named one restart with it (unless `noDeps`).
 */
export async function restart(ctx: ComposeContext, services: string[] = [], timeout?: number, opts: { noDeps?: boolean } = {}): Promise<void> {
  const all = { ...ctx.project.disabledServices, ...ctx.project.services };
  const names = services.length === 0 || opts.noDeps ? services : [...services, ...restartDependents(all, services)];
  await restartInOrder(ctx, await projectContainers(ctx.client, ctx.project.name, { services: names }), timeout);
}

/**
 * Restarts containers level by level in their services' dependency order; before a service's,
 * the conditions of the dependencies it declared `restart: true` on are awaited (compose's restart).
 */
async function restartInOrder(ctx: ComposeContext, containers: ContainerSummary[], timeout: number | undefined): Promise<void> {
  const all = { ...ctx.project.disabledServices, ...ctx.project.services };
  for (const level of reverseOrder(ctx.project, containers).reverse()) {
    for (const name of [...new Set(level.map(serviceOf))]) {
      const s = all[name];
      if (!s) continue;
      const dependsOn = Object.fromEntries(Object.entries(s.dependsOn).filter(([, c]) => c.restart));
      await waitDependencies(ctx, { name, dependsOn }, all);
    }
    await Promise.all(level.map(async (c) => {
      const id = `Container ${cid(c)}`;
      ctx.progress.event(id, 'Restarting');
      await ctx.client.containerRestart(c.Id, timeout !== undefined ? { timeout } : {});
      ctx.progress.event(id, 'Started');
    }));
  }
}

export async function kill(ctx: ComposeContext, services: string[] = [], signal?: string): Promise<void> {
  const all = (await projectContainers(ctx.client, ctx.project.name, { services })).filter((c) => c.State === 'running');
  if (all.length === 0) throw new NotFound('no container to kill');
  await Promise.all(all.map(async (c) => {
    const id = `Container ${cid(c)}`;
    ctx.progress.event(id, 'Killing');
    await ctx.client.containerKill(c.Id, signal);
    ctx.progress.event(id, 'Killed');
  }));
}

export interface DownOptions { volumes?: boolean; removeOrphans?: boolean; rmi?: 'local' | 'all'; timeout?: number }

/** `down`: containers (dependents first), the project's networks, with -v its volumes, with --rmi its images. */
export async function down(ctx: ComposeContext, opts: DownOptions = {}): Promise<void> {
  const { client, project, progress: p } = ctx;
  // One-off `run` containers go too (compose's down lists them with oneOffInclude).
  const all = await projectContainers(client, project.name, { oneOff: true });
  const known = new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]);
  const orphans = all.filter((c) => !known.has(serviceOf(c)));
  const mine = opts.removeOrphans ? all : all.filter((c) => known.has(serviceOf(c)));
  if (orphans.length > 0 && !opts.removeOrphans) {
    p.warn(`Found orphan containers ([${orphans.map(cid).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  for (const level of reverseOrder(project, mine)) {
    await removeContainers(ctx, level, { timeout: opts.timeout, stop: true, volumes: opts.volumes ?? false });
  }
  // The project's networks; without a compose file (-p only), those carrying its label.
  const netNames = Object.values(project.networks).filter((n) => !n.external).map((n) => n.name);
  if (project.configFiles.length === 0) {
    for (const n of await client.networkList({ label: [`${PROJECT_LABEL}=${project.name}`] })) netNames.push(String(n.Name));
  }
  for (const name of [...new Set(netNames)].sort()) {
    let net: Json;
    try {
      net = await client.networkInspect(name);
    } catch (e) {
      if (isStatus(e, 404)) continue;
      throw e;
    }
    if (((net.Labels as Record<string, string> | null) ?? {})[PROJECT_LABEL] !== project.name) continue;
    const id = `Network ${name}`;
    p.event(id, 'Removing');
    await client.networkRemove(name);
    p.event(id, 'Removed');
  }
  if (opts.volumes) {
    const volNames = Object.values(project.volumes).filter((v) => !v.external).map((v) => v.name);
    if (project.configFiles.length === 0) {
      for (const v of (await client.volumeList({ label: [`${PROJECT_LABEL}=${project.name}`] })).Volumes ?? []) volNames.push(String(v.Name));
    }
    for (const name of [...new Set(volNames)].sort()) {
      const id = `Volume ${name}`;
      try {
        const info = await client.volumeInspect(name);
        if (((info.Labels as Record<string, string> | null) ?? {})[PROJECT_LABEL] !== project.name) continue;
        p.event(id, 'Removing');
        await client.volumeRemove(name);
        p.event(id, 'Removed');
      } catch (e) {
        if (!isStatus(e, 404)) throw e;
      }
    }
  }
  if (opts.rmi) {
    const images = new Set<string>();
    for (const s of Object.values({ ...project.disabledServices, ...project.services })) {
      // local: the images compose named itself (build without `image:`), all: every service's.
      if (opts.rmi === 'all' || (s.build && s.image === `${project.name}-${s.name}`)) images.add(s.image);
    }
    for (const ref of [...images].sort()) {
      const id = `Image ${ref}`;
      try {
        p.event(id, 'Removing');
        await client.imageRemove(ref);
        p.event(id, 'Removed');
      } catch (e) {
        if (isStatus(e, 404)) continue;
        p.warn(`image ${ref}: ${(e as Error).message}`);
      }
    }
  }
}

/** `rm`: stopped containers of the services (with `stop`: running ones stopped first). */
export async function rm(ctx: ComposeContext, services: string[], opts: { stop?: boolean; volumes?: boolean; timeout?: number }): Promise<ContainerSummary[]> {
  if (opts.stop) await stop(ctx, services, opts.timeout);
  const stopped = (await projectContainers(ctx.client, ctx.project.name, { services })).filter((c) => !isActive(c));
  await removeContainers(ctx, stopped, { volumes: opts.volumes ?? false });
  return stopped;
}

/** `build [SERVICE...]`: the services with a `build:` section (all of them when none is named). */
export async function build(ctx: ComposeContext, services: string[] = [], opts: BuildOptions = {}): Promise<void> {
  const selected = Object.values(selectServices(ctx.project, services)).filter((s) => s.build !== null);
  for (const s of selected) await buildService(ctx, s, opts);
}

/** `pull [SERVICE...]`: the images of services without `build:` (or with pull_policy always). */
export async function pull(ctx: ComposeContext, services: string[] = [], opts: { ignoreFailures?: boolean } = {}): Promise<void> {
  const selected = Object.values(selectServices(ctx.project, services)).filter((s) => s.build === null || s.pullPolicy === 'always');
  for (const s of selected) {
    try {
      await pullImage(ctx, s);
    } catch (e) {
      if (!opts.ignoreFailures) throw e;
      ctx.progress.warn(`${s.name}: ${(e as Error).message}`);
    }
  }
}

/** `pause` / `unpause`: the running (resp. paused) containers of the services. */
export async function pause(ctx: ComposeContext, services: string[] = [], resume = false): Promise<void> {
  const all = (await projectContainers(ctx.client, ctx.project.name, { services })).filter((c) => c.State === (resume ? 'paused' : 'running'));
  await Promise.all(all.map(async (c) => {
    const id = `Container ${cid(c)}`;
    ctx.progress.event(id, resume ? 'Unpausing' : 'Pausing');
    if (resume) await ctx.client.containerUnpause(c.Id);
    else await ctx.client.containerPause(c.Id);
    ctx.progress.event(id, resume ? 'Unpaused' : 'Paused');
  }));
}

export interface ProjectSummary { name: string; status: string; configFiles: string }

/** `ls`: the projects that have containers, with compose's status ("running(2), exited(1)"). */
export async function listProjects(client: Client, all: boolean): Promise<ProjectSummary[]> {
  const list = await client.containerList({ all: true, filters: { label: [PROJECT_LABEL] } });
  const byProject = new Map<string, ContainerSummary[]>();
  for (const c of list) {
    const p = c.Labels?.[PROJECT_LABEL] ?? '';
    const cs = byProject.get(p);
    if (cs) cs.push(c);
    else byProject.set(p, [c]);
  }
  const out: ProjectSummary[] = [];
  for (const [name, cs] of [...byProject].sort(([a], [b]) => a.localeCompare(b))) {
    const counts = new Map<string, number>();
    for (const c of cs) counts.set(c.State, (counts.get(c.State) ?? 0) + 1);
    if (!all && !counts.has('running')) continue;
    const files = new Set(cs.map((c) => c.Labels?.['com.docker.compose.project.config_files'] ?? '').filter(Boolean));
    out.push({ name, status: [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', '), configFiles: [...files].join(',') });
  }
  return out;
}
