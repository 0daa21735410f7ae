/**
 * Docker Engine API v1.47 shapes of an image: ImageSummary (GET /images/json), ImageInspect
 * (GET /images/{name}/json) and HistoryResponseItem (GET /images/{name}/history).
 */
import type { Json } from '../engine/contract.js';
import type { ImageConfig } from './config.js';
import type { ImageRecord } from './records.js';

/** Go's zero time, which Docker prints for LastTagTime of an image never tagged locally. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

export function unixSeconds(rfc3339: string | undefined): number {
  if (!rfc3339) return 0;
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export function summaryOf(rec: ImageRecord, config: ImageConfig, containers: number): Json {
  return {
    Containers: containers,
    Created: unixSeconds(rec.created),
    Id: rec.id,
    Labels: config.config?.Labels ?? null,
    ParentId: rec.parent,
    RepoDigests: rec.repoDigests,
    RepoTags: rec.repoTags,
    // -1: not computed, as Docker answers unless asked for shared sizes (system df).
    SharedSize: -1,
    Size: rec.size,
  };
}

/**
 * The ImageConfig object with Docker's always-present fields (the v1.47 yaml's full example):
 * a client reading `.Config.Entrypoint` gets null rather than a missing key.
 */
export function inspectConfig(config: ImageConfig): Json {
  return {
    Hostname: '', Domainname: '', User: '',
    AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false,
    Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
    ...(config.config ?? {}),
  };
}

export function inspectOf(rec: ImageRecord, config: ImageConfig, graphDriverData: Record<string, string>): Json {
  const out: Json = {
    Id: rec.id,
    RepoTags: rec.repoTags,
    RepoDigests: rec.repoDigests,
    Parent: rec.parent,
    Comment: config.comment ?? '',
    ...(config.created ? { Created: config.created } : {}),
    DockerVersion: config.docker_version ?? '',
    Author: config.author ?? '',
    Config: inspectConfig(config),
    Architecture: config.architecture ?? '',
    ...(config.variant ? { Variant: config.variant } : {}),
    Os: config.os ?? '',
    ...(config['os.version'] ? { OsVersion: config['os.version'] } : {}),
    Size: rec.size,
    GraphDriver: { Name: 'overlay2', Data: graphDriverData },
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    Metadata: { LastTagTime: rec.lastTagTime || ZERO_TIME },
  };
  return out;
}

/**
 * History, newest first. History entries without `empty_layer` consume the image's layers in
 * order (image-spec config.md "history"); `ancestors` maps an entry count to the local image
 * whose history ends there, so parents get their id and tags as in Docker.
 */
export function historyOf(rec: ImageRecord, config: ImageConfig, ancestors: Map<number, ImageRecord>): Json[] {
  let entries = config.history ?? [];
  if (entries.length === 0) {
    // Configs without history (hand-made, old) still have layers: one anonymous entry each.
    entries = config.rootfs.diff_ids.map(() => ({ created: config.created ?? '' }));
  }
  let layerIdx = 0;
  const rows: Json[] = entries.map((h, i) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : rec.layers[layerIdx]?.size ?? 0;
    if (!empty) layerIdx++;
    const owner = i === entries.length - 1 ? rec : ancestors.get(i + 1);
    return {
      Comment: h.comment ?? '',
      Created: unixSeconds(h.created),
      CreatedBy: h.created_by ?? '',
      Id: owner ? owner.id : '<missing>',
      Size: size,
      Tags: owner && owner.repoTags.length > 0 ? owner.repoTags : null,
    };
  });
  return rows.reverse();
}
