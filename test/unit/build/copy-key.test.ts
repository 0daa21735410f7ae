/**
 * A COPY/ADD step's key and created_by computed from its chosen sources alone, with no step root
 * and no copy (copy-spec.ts, copy-sources.ts, copy-key.ts). The keys are those the builder gave
 * the same steps before the executor's copy step was split (checked against its build cache);
 * the created_by strings are dockerd 20.10's, as test/integration/build/history.test.ts pins them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseDockerfile, type Instruction } from '../../../src/build/index.js';
import { stepKey } from '../../../src/build/cache.js';
import { BuildContext } from '../../../src/build/context.js';
import { copySpec, type CopySpec } from '../../../src/build/copy-spec.js';
import { contextSources, imageSources, selectionContext } from '../../../src/build/copy-sources.js';
import { contextKeyInputs, copyComment, copyCreatedBy, imageSourceHashes } from '../../../src/build/copy-key.js';
import { historyContext } from '../../integration/build/history-context.js';

const SHELL = ['/bin/sh', '-c'];
const ins = (line: string): Instruction => parseDockerfile(`FROM scratch\n${line}\n`).instructions[1] as Instruction;
const same = (s: string): string => s;
const specOf = (line: string, workdir = '/'): CopySpec => copySpec(ins(line), same, '\\', workdir);
const noDownload = { expand: same, download: (url: string) => Promise.reject(new Error(`no download in this test: ${url}`)) };

describe('COPY/ADD key and created_by from the build context, without copying', () => {
  let dir = '';
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'hako-copy-key-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  /** The step's key on scratch and its created_by, from a fresh unpack of history-context's tar. */
  async function keyOf(line: string, at: string): Promise<{ key: string; createdBy: string; ctx: BuildContext }> {
    const base = await BuildContext.unpack(Readable.from([await historyContext()]), join(dir, at), 'Dockerfile');
    const i = ins(line);
    const spec = copySpec(i, same, '\\', '/');
    const ctx = selectionContext(base, spec);
    const sources = await contextSources(ctx, spec, { heredocs: i.heredocs, ...noDownload });
    const { contentHash, sourceHashes } = await contextKeyInputs(ctx, sources);
    return { key: stepKey({ parent: 'scratch', instruction: copyComment(spec), args: [], content: contentHash }), createdBy: copyCreatedBy(SHELL, spec, sourceHashes), ctx: base };
  }

  const cases: Array<[string, string, string]> = [
    ['COPY a.txt /dst/', '44cbdab4bedcf0c0d5a02eb0fd11b348e25fdcdcadf16785362f6b12bae59550', 'COPY file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /dst/ '],
    ['COPY a.txt b.txt /multi/', 'a0d999d3bc15aad8c032b841860a0d4b116b19338d7483b315da6b92cb20986e', 'COPY multi:6ece257e02c6d5af9785b6aaa3838e5a4d018ce203822272fce5db893b123730 in /multi/ '],
    ['COPY dir /d', 'edd51bcd1f00e12dcada14b52fbf23911a121393e834b1609acffce40a5445d1', 'COPY dir:6b9ceaa97a3e0d73a2966894c95db322a6dc089c7ee4c7a81d60e462140af8d4 in /d '],
    ['COPY dir/ ./rel/', '5cca12f3c5efd654424adf6c3f20384c21d89e545fe8f5510af60156a628480c', 'COPY dir:6b9ceaa97a3e0d73a2966894c95db322a6dc089c7ee4c7a81d60e462140af8d4 in ./rel/ '],
    ['COPY *.txt /w/', 'b182842af9af6b79e5ab476bbacb4feb53b098b550542ac96e5347efb08b85ed', 'COPY multi:6ece257e02c6d5af9785b6aaa3838e5a4d018ce203822272fce5db893b123730 in /w/ '],
    ['COPY --chown=1001:1001 a.txt /owned', 'e844d6988a15b04e5d054869be0e8a8475f7d5180ad485d72760645828c50157', 'COPY --chown=1001:1001file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /owned '],
    ['ADD arch.tar /ex/', '7abea692835d300c487a93ad53aeb20bb46d99a0f00eea91ba7baa94fcf2af4b', 'ADD file:04b427e6f62f14c82e4c33c395b5ce94707cf9ef8a0de9b8b2d564f24c9d7dca in /ex/ '],
    ['COPY --exclude=sub dir /d/', '97fbf629e8d45fc397b3b3bdfe2f33ad7b15c3382be00dfb030b04b1067aa71c', 'COPY dir:df8d3b204dee8f0fca853708a87740e61b1670ed4fd5259496e4ec50ba4c2ae9 in /d/ '],
    ['COPY --parents ./dir/./sub/x /p/', '381381df396d7d0a55873057a551819976536ae89f1f9494dea4a18497cff55e', 'COPY file:b4626968ed5081e3eef681a3c496ba085e23598b1b9c8218a2a4dda3d2746cad in /p/ '],
    ['COPY dir/link /l', 'e30d2397b06bfeca23dc39722684fa4efb710cb0a709c758a471a162d6205832', 'COPY file:bae9b791d93c051f85234e6ee46be813e54c04fb36992cb7fd8ae1264bb3364d in /l '],
  ];
  for (const [line, key, createdBy] of cases) {
    test(line, async () => {
      const got = await keyOf(line, `c${cases.findIndex((c) => c[0] === line)}`);
      assert.equal(got.createdBy, `/bin/sh -c #(nop) ${createdBy}`);
      assert.equal(got.key, key);
    });
  }

  test('files whose sums the stream gave are not written to disk to be hashed', async () => {
    const { ctx } = await keyOf('COPY a.txt b.txt dir/sub /multi/', 'nodisk');
    assert.equal(existsSync(join(ctx.root, 'a.txt')), false);
    assert.equal(existsSync(join(ctx.root, 'dir/sub/x')), false);
    await ctx.materialize();
    assert.equal(existsSync(join(ctx.root, 'a.txt')), true);
  });

  test('a changed file changes the key and its input; heredocs are keyed by their bodies', async () => {
    const base = await BuildContext.unpack(Readable.from([await historyContext()]), join(dir, 'inputs'), 'Dockerfile');
    const one = async (line: string): Promise<Awaited<ReturnType<typeof contextKeyInputs>>> => {
      const i = ins(line);
      const spec = copySpec(i, same, '\\', '/');
      return contextKeyInputs(base, await contextSources(selectionContext(base, spec), spec, { heredocs: i.heredocs, ...noDownload }));
    };
    const ab = await one('COPY a.txt b.txt /m/');
    assert.deepEqual(Object.keys(ab.fileHashes), ['file:a.txt', 'file:b.txt']);
    const b = await one('COPY b.txt /m/');
    assert.equal(b.fileHashes['file:b.txt'], ab.fileHashes['file:b.txt']);
    assert.notEqual(b.contentHash, ab.contentHash);
    const doc1 = await one('COPY <<EOF /f\none\nEOF');
    const doc2 = await one('COPY <<EOF /f\ntwo\nEOF');
    assert.notEqual(doc1.contentHash, doc2.contentHash);
    assert.deepEqual(doc1.sourceHashes, ['file:2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806']);
  });
});

describe('COPY --from created_by from the source root, without copying', { skip: process.getuid?.() !== 0 ? 'needs root: the hashes carry the owner' : false }, () => {
  let root = '';
  before(async () => {
    // The tree history-context's base stage makes: mkdir -p /out/sub, echo a > /out/a, ln -s a /out/l, echo b > /out/sub/b.
    root = await mkdtemp(join(tmpdir(), 'hako-copy-from-'));
    await mkdir(join(root, 'out/sub'), { recursive: true });
    await writeFile(join(root, 'out/a'), 'a\n');
    await writeFile(join(root, 'out/sub/b'), 'b\n');
    await symlink('a', join(root, 'out/l'));
    for (const d of ['out', 'out/sub']) await chmod(join(root, d), 0o755);
    for (const f of ['out/a', 'out/sub/b']) await chmod(join(root, f), 0o644);
  });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  const createdBy = async (line: string): Promise<string> => {
    const spec = specOf(line);
    return copyCreatedBy(SHELL, spec, await imageSourceHashes(root, await imageSources(root, spec)));
  };

  test('a directory and a file hash as dockerd wrote them', async () => {
    assert.equal(await createdBy('COPY --from=base /out /out'), '/bin/sh -c #(nop) COPY dir:12d1a99938c973fb874ddd6bc9e0677a72dd39fb915360f99265a77555763ab5 in /out ');
    assert.equal(await createdBy('COPY --from=0 /out/a /froma'), '/bin/sh -c #(nop) COPY file:ce56a2f62b711950223f10719ae02f16890bb7053a557aa32a427b531bd69a09 in /froma ');
  });

  test('--exclude narrows what is hashed; an excluded source is left out; a missing one is named', async () => {
    const spec = specOf('COPY --from=base --exclude=sub /out /o/');
    const narrowed = await imageSourceHashes(root, await imageSources(root, spec));
    assert.notEqual(narrowed[0], (await imageSourceHashes(root, await imageSources(root, specOf('COPY --from=base /out /o/'))))[0]);
    await rm(join(root, 'out/sub'), { recursive: true });
    try {
      assert.deepEqual(narrowed, await imageSourceHashes(root, await imageSources(root, specOf('COPY --from=base /out /o/'))));
    } finally {
      await mkdir(join(root, 'out/sub'), { mode: 0o755 });
      await writeFile(join(root, 'out/sub/b'), 'b\n', { mode: 0o644 });
    }
    assert.deepEqual((await imageSources(root, specOf('COPY --from=base --exclude=out/a /out/a /out/sub /o/'))).map((s) => s.src), ['/out/sub']);
    // A symlink is followed in the source root: /out/l is /out/a, excluded with it.
    assert.deepEqual((await imageSources(root, specOf('COPY --from=base --exclude=out/a /out/l /o/'))).map((s) => s.rel), []);
    await assert.rejects(imageSources(root, specOf('COPY --from=base /out/nope /x')), /COPY --from=base: \/out\/nope: no such file or directory in the source image/);
  });
});

describe('copySpec', () => {
  test('sources, destination against WORKDIR, --chown/--chmod, --from as written', () => {
    const s = specOf('COPY --chown=app:app --chmod=640 --from=$STAGE a b /d/', '/w');
    assert.deepEqual({ srcs: s.srcs, destRaw: s.destRaw, destAbs: s.destAbs, chown: s.chown, chmod: s.chmod, mode: s.mode, fromRaw: s.fromRaw, symbolic: s.symbolic }, {
      srcs: ['a', 'b'], destRaw: '/d/', destAbs: '/d/', chown: 'app:app', chmod: '640', mode: 0o640, fromRaw: '$STAGE', symbolic: undefined,
    });
    assert.equal(specOf('COPY a rel', '/w').destAbs, '/w/rel');
    assert.equal(specOf('COPY a .', '/w').destAbs, '/w/');
    assert.equal(typeof specOf('COPY --chmod=u+x a /a').symbolic, 'function');
    assert.equal(copyComment(specOf('COPY --chown=1:2 --parents --exclude=*.md --from=s ./x /d/', '/')), 'COPY --chown=1:2 --parents --exclude=*.md --from=s ./x /d/');
  });

  test('variables are substituted in the selection flags, sources, --chown and --chmod, in that order', () => {
    const seen: string[] = [];
    copySpec(ins('COPY --exclude=$E --chown=$U --chmod=$M $S /d/'), (w) => { seen.push(w); return w.replace('$M', '644'); }, '\\', '/');
    assert.deepEqual(seen, ['$E', '$S', '/d/', '$U', '$M']);
  });

  test('bad combinations are refused with docker\'s messages', () => {
    assert.throws(() => specOf('COPY a b /d'), /When using COPY with more than one source file, the destination must be a directory and end with a \//);
    assert.throws(() => specOf('COPY https://x.test/f /f'), /source can't be a URL for COPY/);
    assert.throws(() => specOf('ADD ftp://x.test/f /f'), /ADD ftp:\/\/x.test\/f: only http:\/\/ and https:\/\/ URLs can be downloaded/);
    assert.throws(() => specOf(`ADD --checksum=sha256:${'a'.repeat(64)} a /f`), /give exactly one URL/);
    assert.throws(() => specOf('COPY --parents a /d'), /end the destination with a \//);
  });
});
