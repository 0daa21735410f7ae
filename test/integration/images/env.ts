/**
 * A throw-away data root with real storage (metadata db, content store, layer store) and an
 * image service on it; `users` stands in for the engine's container list.
 */
import { mkdtempSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore, LayerStore, openMetadataDb, type MetadataDb } from '../../../src/storage/index.js';
import { createImageService, type ContainerUse, type HakoImageService } from '../../../src/images/index.js';
import type { ImageService } from '../../../src/engine/contract.js';

export interface ImageEnv {
  root: string;
  images: HakoImageService;
  /** The same service through the engine contract (proves it satisfies ImageService). */
  contract: ImageService;
  content: ContentStore;
  layers: LayerStore;
  db: MetadataDb;
  users: Map<string, ContainerUse[]>;
  /** Everything images/ and storage/ hold, for "nothing left behind" checks. */
  leftovers(): Promise<{ images: number; blobs: string[]; layerDirs: string[]; temp: string[] }>;
  close(): void;
}

export function makeEnv(): ImageEnv {
  const root = mkdtempSync(join(tmpdir(), 'hako-images-'));
  const db = openMetadataDb(join(root, 'metadata.db'));
  const content = new ContentStore(join(root, 'content'));
  const layers = new LayerStore({ root: join(root, 'overlay'), db });
  const users = new Map<string, ContainerUse[]>();
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const images = createImageService({ db, content, layers, containersUsingImage: (id) => users.get(id) ?? [], tmpDir: tmp });
  const contract: ImageService = images;
  return {
    root, images, contract, content, layers, db, users,
    async leftovers() {
      const overlay = join(root, 'overlay');
      let layerDirs: string[] = [];
      try { layerDirs = readdirSync(overlay).filter((n) => /^[a-f0-9]{64}$/.test(n)); } catch { /* never created */ }
      return {
        images: (await images.list({ all: true })).length,
        blobs: (await content.list()).map((b) => b.digest),
        layerDirs,
        temp: readdirSync(tmp),
      };
    },
    close() {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function* chunks(buf: Buffer): AsyncGenerator<Buffer> {
  yield buf;
}

export async function collect(stream: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
