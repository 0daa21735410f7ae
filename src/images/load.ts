/**
 * `docker load`: reads the archives `docker save` writes — the classic docker-archive
 * (manifest.json + <id>/layer.tar + repositories), Docker 25+'s combined form (manifest.json
 * whose paths are OCI blobs, plus index.json/oci-layout) — and plain OCI image layouts
 * (image-layout.md, names from the org.opencontainers.image.ref.name / io.containerd.image.name
 * annotations). Everything is verified before anything is committed, and a failure at any step
 * leaves no image, layer, blob or temp file behind.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../errdefs/index.js';
import { isDigest } from '../storage/index.js';
import { UnpackedArchive, type ArchiveFile } from './archive-unpack.js';
import { blobPath, configProblem, MEDIA_TYPE, type Descriptor, type ImageConfig } from './config.js';
import { tagTarget, type ImageCore, type NamedRef, type NewImage } from './core.js';
import { familiarName, parseReference } from './reference.js';
import { digestUncompressedFile, Rollback } from './streams.js';

interface LayerPlan {
  file: ArchiveFile;
  archivePath: string;
  mediaType: string;
  diffId: string;
  tarSize: number;
}

interface ImagePlan {
  configBytes: Buffer;
  id: string;
  layers: LayerPlan[];
  tags: NamedRef[];
}

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;
const CLASSIC_CONFIG_PATH = /^([a-f0-9]{64})\.json$/;

export async function loadArchive(core: ImageCore, input: Readable, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const dir = await mkdtemp(join(core.deps.tmpDir, 'hako-load-'));
  try {
    const archive = await UnpackedArchive.unpack(input, dir, opts.signal);
    const plans = archive.has('manifest.json') ? await dockerArchivePlans(archive)
      : archive.has('index.json') ? await ociLayoutPlans(archive)
      : null;
    if (plans === null) {
      throw new InvalidArgument('invalid image archive: it has neither manifest.json (docker save) nor index.json (OCI image layout)');
    }
    if (plans.length === 0) throw new InvalidArgument('invalid image archive: its manifest lists no images');
    for (const plan of plans) await verifyLayers(plan);
    return await core.exclusive(() => commit(core, plans, opts.signal));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** manifest.json: [{Config, RepoTags, Layers}] (docker image spec, "combined image JSON + filesystem changeset format"). */
async function dockerArchivePlans(archive: UnpackedArchive): Promise<ImagePlan[]> {
  const manifest = await archive.json('manifest.json', 'manifest');
  if (!Array.isArray(manifest)) throw new InvalidArgument('invalid image archive: manifest.json is not a list');
  const plans: ImagePlan[] = [];
  for (const [i, raw] of manifest.entries()) {
    const m = raw as { Config?: unknown; RepoTags?: unknown; Layers?: unknown };
    if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
      throw new InvalidArgument(`invalid image archive: manifest.json entry ${i} needs "Config" and a "Layers" list`);
    }
    const tags = (Array.isArray(m.RepoTags) ? m.RepoTags : []).map((t) => {
      if (typeof t !== 'string') throw new InvalidArgument(`invalid image archive: manifest.json entry ${i} has a non-string RepoTag`);
      return tagTarget(t);
    });
    const configFile = archive.need(m.Config, 'image config');
    const claimed = BLOB_PATH.exec(m.Config)?.[1] ?? CLASSIC_CONFIG_PATH.exec(m.Config)?.[1];
    if (claimed !== undefined) checkDigest(configFile, `sha256:${claimed}`, `image config ${m.Config}`);
    const layers = (m.Layers as string[]).map((path) => {
      const file = archive.need(path, 'layer');
      const hex = BLOB_PATH.exec(path)?.[1];
      if (hex !== undefined) checkDigest(file, `sha256:${hex}`, `layer ${path}`);
      // The media type is told by the bytes (docker-archive layers are plain tars, but gzip'ed
      // ones exist in the wild); verifyLayers looks.
      return { file, archivePath: path, mediaType: '', diffId: '', tarSize: 0 };
    });
    plans.push(await planFromConfig(configFile, layers, tags, m.Config));
  }
  return plans;
}

/** index.json -> manifests (through nested indexes) -> config + layers (image-layout.md). */
async function ociLayoutPlans(archive: UnpackedArchive): Promise<ImagePlan[]> {
  const index = await archive.json('index.json', 'OCI index') as { manifests?: unknown };
  if (!Array.isArray(index?.manifests)) throw new InvalidArgument('invalid image archive: index.json has no "manifests" list');
  const plans: ImagePlan[] = [];
  for (const desc of index.manifests as Descriptor[]) {
    const manifest = await manifestFor(archive, checkDescriptor(desc, 'index.json manifest'), 0);
    const tags = namesOf(desc);
    const configDesc = checkDescriptor(manifest.config, 'manifest config');
    const configFile = blobFile(archive, configDesc, 'image config');
    const layers = (manifest.layers ?? []).map((l) => {
      const d = checkDescriptor(l, 'manifest layer');
      return { file: blobFile(archive, d, 'layer'), archivePath: blobPath(d.digest), mediaType: d.mediaType, diffId: '', tarSize: 0 };
    });
    const plan = await planFromConfig(configFile, layers, tags, blobPath(configDesc.digest));
    // Docker 25+ archives list one index entry per tag of the same image: merge them.
    const same = plans.find((p) => p.id === plan.id);
    if (same) same.tags.push(...plan.tags.filter((t) => !same.tags.some((s) => s.name === t.name)));
    else plans.push(plan);
  }
  return plans;
}

interface OciManifest {
  mediaType?: string;
  config: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

async function manifestFor(archive: UnpackedArchive, desc: Descriptor, depth: number): Promise<OciManifest> {
  if (depth > 4) throw new InvalidArgument('invalid image archive: image indexes nested too deep');
  const doc = await archive.json(blobPath(desc.digest), 'manifest') as OciManifest;
  blobFile(archive, desc, 'manifest');
  if (Array.isArray(doc?.manifests)) {
    // An index (multi-platform): take linux/amd64, else the only entry.
    const entries = doc.manifests.map((m) => checkDescriptor(m, 'index entry'));
    const pick = entries.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64')
      ?? (entries.length === 1 ? entries[0] : undefined);
    if (!pick) throw new InvalidArgument(`invalid image archive: index ${desc.digest} has no linux/amd64 image`);
    return manifestFor(archive, pick, depth + 1);
  }
  if (typeof doc?.config !== 'object' || doc.config === null) {
    throw new InvalidArgument(`invalid image archive: manifest ${desc.digest} has no config`);
  }
  return doc;
}

/** Names of an index.json entry: the full name annotation, else a ref.name that is a reference. */
function namesOf(desc: Descriptor): NamedRef[] {
  const a = desc.annotations ?? {};
  const full = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
  if (full === undefined) return [];
  // A bare tag ("latest") names no repository: the image is loaded by id.
  if (!full.includes('/') && !full.includes(':') && a['io.containerd.image.name'] === undefined) return [];
  try {
    const ref = parseReference(full);
    if (ref.digest !== null && ref.tag === null) return [];
    return [tagTarget(`${familiarName(ref)}:${ref.tag ?? 'latest'}`)];
  } catch {
    return [];
  }
}

async function planFromConfig(configFile: ArchiveFile, layers: LayerPlan[], tags: NamedRef[], where: string): Promise<ImagePlan> {
  const handle = await open(configFile.path, 'r');
  let configBytes: Buffer;
  try {
    configBytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw new InvalidArgument(`invalid image archive: image config ${where} is not valid JSON: ${(err as Error).message}`);
  }
  const problem = configProblem(config);
  if (problem) throw new InvalidArgument(`invalid image archive: image config ${where} ${problem}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layers.length) {
    throw new InvalidArgument(`invalid image archive: image config ${where} lists ${diffIds.length} layers (rootfs.diff_ids) but the manifest has ${layers.length}`);
  }
  layers.forEach((l, i) => { l.diffId = diffIds[i] as string; });
  return { configBytes, id: configFile.digest, layers, tags };
}

/** Each layer's uncompressed digest must be the diff id the config names for it. */
async function verifyLayers(plan: ImagePlan): Promise<void> {
  for (const l of plan.layers) {
    const head = Buffer.alloc(6);
    const fh = await open(l.file.path, 'r');
    try {
      await fh.read(head, 0, 6, 0);
    } finally {
      await fh.close();
    }
    const gzip = head[0] === 0x1f && head[1] === 0x8b;
    if (head.readUInt32BE(0) === 0x28b52ffd) throw new InvalidArgument(`layer ${l.archivePath} is zstd-compressed, which hako cannot decode yet`);
    // The bytes decide, not the label: a mislabelled layer still loads.
    l.mediaType = !gzip ? MEDIA_TYPE.ociLayer : l.mediaType.endsWith('gzip') ? l.mediaType : MEDIA_TYPE.ociLayerGzip;
    const { digest, size } = gzip ? await digestUncompressedFile(l.file.path, `layer ${l.archivePath}`) : l.file;
    if (digest !== l.diffId) {
      throw new InvalidArgument(`invalid image archive: layer ${l.archivePath} has content digest ${digest}, but image ${plan.id} expects diff id ${l.diffId}: the archive is corrupt`);
    }
    l.tarSize = size;
  }
}

async function commit(core: ImageCore, plans: ImagePlan[], signal?: AbortSignal): Promise<string[]> {
  const rb = new Rollback();
  try {
    const images: NewImage[] = [];
    for (const plan of plans) {
      const img: NewImage = { configBytes: plan.configBytes, layers: [], blobs: [], parent: '', tags: plan.tags };
      let parent: string | null = null;
      for (const l of plan.layers) {
        const { layer, blob } = await core.addLayer(parent, createReadStream(l.file.path), {
          mediaType: l.mediaType, blobDigest: l.file.digest, diffId: l.diffId, tarSize: l.tarSize, rb,
          ...(signal ? { signal } : {}),
        });
        img.layers.push(layer);
        img.blobs.push(blob);
        parent = layer.chainId;
      }
      images.push(img);
    }
    const results = await core.addImages(images, rb);
    rb.clear();
    const lines: string[] = [];
    results.forEach((r, i) => {
      core.deps.onEvent?.('load', r.id, r.id);
      const tags = (images[i] as NewImage).tags;
      for (const m of r.moved) lines.push(`The image ${m.name} already exists, renaming the old one with ID ${m.from} to empty string`);
      if (tags.length === 0) lines.push(`Loaded image ID: ${r.id}`);
      for (const t of tags) lines.push(`Loaded image: ${t.name}`);
    });
    return lines;
  } catch (err) {
    await rb.run();
    throw err;
  }
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const desc = d as Descriptor;
  if (typeof desc !== 'object' || desc === null || typeof desc.digest !== 'string' || !isDigest(desc.digest)) {
    throw new InvalidArgument(`invalid image archive: ${what} has no valid sha256 digest`);
  }
  if (typeof desc.mediaType !== 'string') desc.mediaType = '';
  return desc;
}

function blobFile(archive: UnpackedArchive, desc: Descriptor, what: string): ArchiveFile {
  const f = archive.need(blobPath(desc.digest), what);
  checkDigest(f, desc.digest, `${what} ${blobPath(desc.digest)}`);
  if (typeof desc.size === 'number' && desc.size !== f.size) {
    throw new InvalidArgument(`invalid image archive: ${what} ${desc.digest} is ${f.size} bytes, the manifest says ${desc.size}`);
  }
  return f;
}

function checkDigest(f: ArchiveFile, expected: string, what: string): void {
  if (f.digest !== expected) {
    throw new InvalidArgument(`invalid image archive: ${what} has digest ${f.digest}, expected ${expected}: the archive is corrupt`);
  }
}
