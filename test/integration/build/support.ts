/** Helpers of the build integration tests: context tars, builds with their output, layer listings. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { TestEngine } from '../../support/engine.js';

export type Files = Record<string, string | { content: string; mode?: number; mtime?: Date }>;

/** A build context tar, as the docker CLI sends it. */
export async function contextTar(files: Files): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, f] of Object.entries(files)) {
    const e = typeof f === 'string' ? { content: f } : f;
    pack.entry({ name, mode: e.mode ?? 0o644, mtime: e.mtime ?? new Date(1_700_000_000_000) }, e.content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface Built { id: string; output: string; steps: string[] }
export type BuildOpts = Parameters<NonNullable<TestEngine['engine']['build']>['build']>[1];

/** Builds and returns the id, the whole stream output, and per step the text after "Step n/m". */
export async function build(t: TestEngine, files: Files, opts: BuildOpts = {}): Promise<Built> {
  let output = '';
  const builder = t.engine.build;
  assert.ok(builder, 'the engine has a builder');
  try {
    const id = await builder.build(Readable.from(await contextTar(files)), opts, (m) => { if (typeof m.stream === 'string') output += m.stream; });
    return { id, output, steps: output.split(/^Step \d+\/\d+ : /m).slice(1) };
  } catch (err) {
    (err as Error & { output?: string }).output = output;
    throw err;
  }
}

/** The `save` archive of an image: every member's bytes by name. */
export async function savedMembers(t: TestEngine, ref: string): Promise<Map<string, Buffer>> {
  const archive = await t.engine.images.save([ref]);
  const outer = tar.extract();
  archive.pipe(outer);
  const blobs = new Map<string, Buffer>();
  for await (const entry of outer) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    blobs.set(entry.header.name, Buffer.concat(chunks));
  }
  return blobs;
}

/** Every path in every layer of an image (from `save`). */
export async function layerPaths(t: TestEngine, ref: string): Promise<string[]> {
  const blobs = await savedMembers(t, ref);
  const manifest = JSON.parse((blobs.get('manifest.json') as Buffer).toString()) as Array<{ Layers: string[] }>;
  const paths: string[] = [];
  for (const name of manifest[0]?.Layers ?? []) {
    const inner = tar.extract();
    Readable.from([blobs.get(name) as Buffer]).pipe(inner);
    for await (const e of inner) { paths.push(e.header.name.replace(/\/$/, '')); e.resume(); }
  }
  return paths.sort();
}
