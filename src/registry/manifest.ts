/**
 * Manifests and indexes as registries serve them: Docker's image manifest v2 schema 2 and
 * manifest list, and the OCI image manifest and index (image-spec manifest.md, image-index.md).
 * Parsing here validates what the puller relies on (sha256 descriptors with sizes), so a bad
 * document fails with a message before a byte of its layers is fetched.
 */
import { InvalidArgument, NotFound, NotImplemented } from '../errdefs/index.js';
import { MEDIA_TYPE } from '../images/index.js';

/** The media types images/ knows, and those only a registry serves (foreign layers, schema 1). */
export const MT = {
  ...MEDIA_TYPE,
  dockerList: MEDIA_TYPE.dockerManifestList,
  ociNondistLayer: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What a puller asks for, best first (the Accept header). */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest].join(', ');

const MANIFEST_TYPES: ReadonlySet<string> = new Set([MT.ociManifest, MT.dockerManifest]);
const INDEX_TYPES: ReadonlySet<string> = new Set([MT.ociIndex, MT.dockerList]);
export const LAYER_TYPES: ReadonlySet<string> = new Set([
  MT.ociLayer, MT.ociLayerGzip, MT.ociLayerZstd, MT.dockerLayer, MT.dockerLayerGzip,
]);

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Partial<Platform> & { 'os.version'?: string };
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Parses a manifest document. `contentType` is the registry's Content-Type; the document's own
 * mediaType wins when present (OCI makes it optional, Docker's schema 2 requires it).
 */
export function parseManifest(bytes: Buffer, contentType: string, where: string): ImageManifest | ImageIndex {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgument(`manifest ${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new InvalidArgument(`manifest ${where} is not a JSON object`);
  const ct = contentType.split(';')[0]?.trim() ?? '';
  let mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : ct;
  if (doc.schemaVersion === 1 || mediaType === MT.schema1 || mediaType === MT.schema1Signed) {
    throw new NotImplemented(`manifest ${where} is Docker image manifest schema 1, which registries deprecated in 2019 and hako does not pull; push the image again with a current client`);
  }
  if (!MANIFEST_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    // OCI allows mediaType to be absent: tell the two by their fields.
    if (Array.isArray(doc.manifests)) mediaType = MT.ociIndex;
    else if (doc.config !== undefined && Array.isArray(doc.layers)) mediaType = MT.ociManifest;
    else throw new InvalidArgument(`manifest ${where} has the unsupported media type "${mediaType}"`);
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new InvalidArgument(`image index ${where} has no "manifests" list`);
    return { kind: 'index', mediaType, manifests: doc.manifests.map((d, i) => descriptor(d, `${where} manifests[${i}]`)) };
  }
  if (!Array.isArray(doc.layers)) throw new InvalidArgument(`manifest ${where} has no "layers" list`);
  return {
    kind: 'manifest',
    mediaType,
    config: descriptor(doc.config, `${where} config`),
    layers: doc.layers.map((d, i) => descriptor(d, `${where} layers[${i}]`)),
  };
}

export function descriptor(value: unknown, where: string): Descriptor {
  const d = value as Descriptor;
  if (typeof d !== 'object' || d === null) throw new InvalidArgument(`${where}: not a descriptor object`);
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) {
    throw new InvalidArgument(`${where}: digest ${JSON.stringify(d.digest)} is not a sha256 digest`);
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new InvalidArgument(`${where}: size ${JSON.stringify(d.size)} is not a byte count`);
  }
  if (typeof d.mediaType !== 'string') d.mediaType = '';
  return d;
}

/** "linux/amd64", "linux/arm64/v8", "linux" -> a platform (architecture defaults to the host's). */
export function parsePlatform(text: string | undefined, host: Platform = hostPlatform()): Platform {
  if (!text) return host;
  const [os = '', architecture, variant] = text.toLowerCase().split('/');
  if (os === '' || (architecture !== undefined && architecture === '')) throw new InvalidArgument(`invalid platform "${text}": expected os[/arch[/variant]], e.g. linux/amd64`);
  const arch = normalizeArch(architecture ?? host.architecture);
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

export function hostPlatform(): Platform {
  const arch = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
  return { os: 'linux', architecture: arch };
}

function normalizeArch(a: string): string {
  return ({ x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', i386: '386' } as Record<string, string>)[a] ?? a;
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/**
 * The index entry for `want`, as containerd's platform matcher picks it: same os and architecture,
 * and the variant when one was asked for (arm64's "v8" is its default). Attestation manifests
 * (platform unknown/unknown) never match.
 */
export function selectManifest(index: ImageIndex, want: Platform, where: string): Descriptor {
  const variantOk = (v: string | undefined): boolean => {
    if (!want.variant) return true;
    const have = v ?? (want.architecture === 'arm64' ? 'v8' : undefined);
    return have === want.variant;
  };
  const matches = index.manifests.filter((d) =>
    d.platform?.os === want.os && normalizeArch(d.platform.architecture ?? '') === want.architecture && variantOk(d.platform.variant)
    && (MANIFEST_TYPES.has(d.mediaType) || INDEX_TYPES.has(d.mediaType) || d.mediaType === ''));
  // Without a variant asked for, an entry without a variant is the better match.
  const best = matches.find((d) => !d.platform?.variant) ?? matches[0];
  if (!best) {
    const have = index.manifests.map((d) => d.platform ? platformString({ os: d.platform.os ?? '?', architecture: d.platform.architecture ?? '?', ...(d.platform.variant ? { variant: d.platform.variant } : {}) }) : '?');
    throw new NotFound(`no matching manifest for ${platformString(want)} in the manifest list entries of ${where} (it has: ${have.join(', ') || 'none'})`);
  }
  return best;
}
