import { InvalidArgument } from '../../errdefs/index.js';
import type { Json } from '../contract.js';

/** The parts of an OCI image config (config.md, `config` object) a container inherits. */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, unknown>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, unknown>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: Json;
  OnBuild?: string[] | null;
  Shell?: string[];
}

const asStrings = (v: unknown, field: string): string[] | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new InvalidArgument(`invalid ${field}: expected an array of strings`);
};

function mergeEnv(image: string[], user: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...user]) {
    const key = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
    out.delete(key); // a later definition takes the earlier one's place in order, as docker
    out.set(key, e);
  }
  return [...out.values()];
}

/**
 * The container's Config as docker stores it: the user's Config with the image's defaults filled
 * in (daemon/create.go merge): Env merged by key, Labels and ExposedPorts and Volumes merged,
 * Cmd taken from the image only when the user gave neither Cmd nor Entrypoint.
 */
export function mergeContainerConfig(user: Json, image: ImageRuntimeConfig, defaultHostname: string): Json {
  const cmd = asStrings(user.Cmd, 'Cmd');
  const entrypoint = asStrings(user.Entrypoint, 'Entrypoint');
  const env = asStrings(user.Env, 'Env') ?? [];
  for (const e of env) {
    if (e === '' || e.startsWith('=')) throw new InvalidArgument(`invalid environment variable: ${e}`);
  }
  const merged: Json = { ...user };
  // The create body carries these beside Config's fields; they are not part of Config (docker-py,
  // dockerode and the CLI all send them there), so inspect must not show them under Config.
  delete merged.HostConfig;
  delete merged.NetworkingConfig;
  merged.Hostname = typeof user.Hostname === 'string' && user.Hostname !== '' ? user.Hostname : defaultHostname;
  merged.Domainname = user.Domainname ?? '';
  merged.User = typeof user.User === 'string' && user.User !== '' ? user.User : image.User ?? '';
  merged.Env = mergeEnv(image.Env ?? [], env);
  if (entrypoint === null || entrypoint.length === 0) {
    merged.Cmd = cmd && cmd.length > 0 ? cmd : image.Cmd ?? null;
    merged.Entrypoint = entrypoint === null ? image.Entrypoint ?? null : null;
  } else {
    merged.Entrypoint = entrypoint;
    merged.Cmd = cmd;
  }
  merged.WorkingDir = typeof user.WorkingDir === 'string' && user.WorkingDir !== '' ? user.WorkingDir : image.WorkingDir ?? '';
  merged.Labels = { ...(image.Labels ?? {}), ...((user.Labels as Record<string, string> | undefined) ?? {}) };
  const ports = { ...(image.ExposedPorts ?? {}), ...((user.ExposedPorts as Json | undefined) ?? {}) };
  if (Object.keys(ports).length > 0) merged.ExposedPorts = ports;
  const volumes = { ...(image.Volumes ?? {}), ...((user.Volumes as Json | undefined) ?? {}) };
  merged.Volumes = Object.keys(volumes).length > 0 ? volumes : null;
  if (!user.StopSignal && image.StopSignal) merged.StopSignal = image.StopSignal;
  const healthcheck = mergeHealthcheck(user.Healthcheck as Json | null | undefined, image.Healthcheck);
  if (healthcheck) merged.Healthcheck = healthcheck;
  if (image.OnBuild !== undefined) merged.OnBuild = image.OnBuild;
  for (const key of ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce'] as const) {
    merged[key] = Boolean(user[key]);
  }
  if (merged.WorkingDir && !String(merged.WorkingDir).startsWith('/')) {
    throw new InvalidArgument(`the working directory '${String(merged.WorkingDir)}' is invalid, it needs to be an absolute path`);
  }
  return merged;
}

/**
 * docker's merge of the user's and the image's health check (daemon/commit.go merge): what the
 * user leaves empty or zero (the test, each duration, the retries) comes from the image's.
 */
function mergeHealthcheck(user: Json | null | undefined, image: Json | undefined): Json | undefined {
  if (!user) return image;
  if (!image) return user;
  const out: Json = { ...user };
  const test = user.Test as unknown[] | null | undefined;
  if (!test || test.length === 0) out.Test = image.Test;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) {
    if (!out[k] && image[k]) out[k] = image[k];
  }
  return out;
}

/** Path and Args of the container's process; the command line is Entrypoint then Cmd. */
export function commandLine(config: Json): { Path: string; Args: string[] } {
  const argv = [...((config.Entrypoint as string[] | null) ?? []), ...((config.Cmd as string[] | null) ?? [])];
  const [path, ...args] = argv;
  if (path === undefined || path === '') throw new InvalidArgument('no command specified');
  return { Path: path, Args: args };
}

/** HostConfig with docker's defaults for what the engine core reads. */
export function normalizeHostConfig(hc: Json | undefined): Json {
  const out: Json = { ...(hc ?? {}) };
  const log = (out.LogConfig as Json | undefined) ?? {};
  out.LogConfig = { Type: (log.Type as string) || 'json-file', Config: (log.Config as Json) ?? {} };
  out.NetworkMode = (out.NetworkMode as string) || 'default';
  out.RestartPolicy = (out.RestartPolicy as Json) ?? { Name: 'no', MaximumRetryCount: 0 };
  out.AutoRemove = Boolean(out.AutoRemove);
  out.Privileged = Boolean(out.Privileged);
  out.ReadonlyRootfs = Boolean(out.ReadonlyRootfs);
  out.Binds = (out.Binds as string[] | null) ?? null;
  out.CapAdd = (out.CapAdd as string[] | null) ?? null;
  out.CapDrop = (out.CapDrop as string[] | null) ?? null;
  out.SecurityOpt = (out.SecurityOpt as string[] | null) ?? null;
  out.ShmSize = (out.ShmSize as number) || 67108864;
  out.ConsoleSize = (out.ConsoleSize as number[]) ?? [0, 0];
  // Keys docker's HostConfig always has (no omitempty), which SDKs index without checking.
  out.PortBindings = (out.PortBindings as Json | null) ?? {};
  out.ContainerIDFile = (out.ContainerIDFile as string) ?? '';
  for (const k of ['Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'Links']) out[k] = out[k] ?? null;
  if (out.Init === undefined) out.Init = null;
  return out;
}
