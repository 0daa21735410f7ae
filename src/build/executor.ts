/**
 * Runs a Dockerfile over the engine the way Docker's legacy builder does: each step makes an
 * image (config-only steps no layer); RUN runs in a container created, started and attached
 * through the engine's container service (same runtime, networks and mounts as `run`), and its
 * upper dir becomes the layer when it changed anything; COPY/ADD/WORKDIR write into an overlay
 * of the parent image and take its upper dir. Steps are cached by stepKey (cache.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmod, lchown, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerService, Json } from '../engine/contract.js';
import { HakoError, InvalidArgument, NotFound, NotImplemented } from '../errdefs/index.js';
import type { CommitOptions, ContainerConfig, ImageConfig } from '../images/index.js';
import { hasChanges, resolveInRoot, type MetadataDb } from '../storage/index.js';
import { BuildCache, missReason, stepKey } from './cache.js';
import { BuildContext, inContext } from './context.js';
import { StepEvents } from './step-events.js';
import { copySpec } from './copy-spec.js';
import { contextSources, imageSources, selectionContext } from './copy-sources.js';
import { contextKeyInputs, copyComment, copyCreatedBy, imageSourceHashes } from './copy-key.js';
import { copyContextSources, copyImageSources } from './copy-apply.js';
import { CacheMounts, parseRunMount, type RunMount } from './mounts.js';
import { pruneBuildCache, type PruneOptions } from './prune.js';
import { download } from './add-url.js';
import { CacheFrom } from './cache-from.js';
import { flagValue, parseDockerfile, type Instruction } from './parser.js';
import { expandPorts, goQuote, hcText, healthcheck, untilTime } from './instruction-values.js';
import { expandHeredoc, expandWord, expandWords, splitWords, type Lookup } from './shell-words.js';
import { neededStages, stageByName, stageDeps, stageGraph, type Stage } from './stages.js';

export interface BuilderDeps {
  db: MetadataDb;
  /** Where each build unpacks its context and mounts its steps (emptied by hakod on start). */
  tmpDir: string;
  containers: ContainerService;
  images: {
    resolve(ref: string): { id: string; chainId: string | null };
    config(id: string): Promise<ImageConfig>;
    commit(opts: CommitOptions): Promise<{ Id: string }>;
    tag(ref: string, repo: string, tag?: string): Promise<void>;
    list(opts: { all?: boolean }): Promise<Json[]>;
    remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<Json[]>;
  };
  layers: {
    mountRootfs(chainId: string | null, containerDir: string, opts?: { volatile?: boolean }): Promise<string>;
    unmountRootfs(containerDir: string): Promise<void>;
    lowerDirs(chainId: string): string[];
  };
  /** Where `RUN --mount=type=cache` directories persist; default `<tmpDir>/../buildcache` (the data root's). */
  cacheDir?: string;
  /** Pulls an image FROM names that is not here (optional: without it, FROM needs local images). */
  pull?: (ref: string, progress: (msg: Json) => void, signal?: AbortSignal) => Promise<void>;
}

export interface BuildOptions {
  /** Path of the Dockerfile inside the context; default "Dockerfile". */
  dockerfile?: string;
  tags?: string[];
  /** --build-arg K=V; a null value means "K from the client's environment" and is left unset. */
  buildArgs?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  /** Only the result is reported (docker build -q). */
  quiet?: boolean;
  pull?: boolean;
  /** RUN steps' network: "default" (bridge), "none", "host", or a network name. */
  networkMode?: string;
  /** `--secret id=…`: what `RUN --mount=type=secret,id=…` reads; never written to a layer or the history. */
  secrets?: Record<string, Buffer>;
  /** `--cache-from`: images whose history serves as cache (cache-from.ts). */
  cacheFrom?: string[];
  /** `--no-cache-filter`: stages (by name or index) that rebuild every step; the others use the cache. */
  noCacheFilter?: string[];
  /** Also send structured step events (step-events.ts) for a client's display. */
  stepEvents?: boolean;
  signal?: AbortSignal;
}

/** Docker's JSON progress messages: {stream}, {aux: {ID}}, … */
export type BuildProgress = (msg: Json) => void;

/** A build step that failed; the message is what Docker's legacy builder says. */
export class BuildStepError extends InvalidArgument {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Build args every Dockerfile may use without declaring them; not recorded in history. */
const PROXY_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);
const DEFAULT_SHELL = ['/bin/sh', '-c'];
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How many stages whose dependencies are built run at the same time. */
const PARALLEL_STAGES = 2;

interface StageState {
  imageId: string | null;
  chainId: string | null;
  config: ContainerConfig;
  author?: string;
  shell: string[];
  /** ARGs declared in this stage: name -> value (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  /** The stage is named by --no-cache-filter: no cache lookups. */
  noCache?: boolean;
}

export class Builder {
  readonly #d: BuilderDeps;
  readonly #cache: BuildCache;
  readonly cacheMounts: CacheMounts;

  constructor(deps: BuilderDeps) {
    this.#d = deps;
    this.#cache = new BuildCache(deps.db);
    this.cacheMounts = new CacheMounts(deps.cacheDir ?? join(dirname(deps.tmpDir), 'buildcache'));
  }

  /** POST /build/prune: cache entries and cache-mount directories (prune.ts). */
  prune(opts: Omit<PruneOptions, 'until'> & { until?: string }): Promise<{ CachesDeleted: string[]; SpaceReclaimed: number }> {
    const { until, ...rest } = opts;
    return pruneBuildCache({ cache: this.#cache, mounts: this.cacheMounts, images: this.#d.images }, { ...rest, ...(until !== undefined ? { until: untilTime(until) } : {}) });
  }

  /** Builds the context's Dockerfile; returns the image id. Nothing is tagged when it fails. */
  async build(context: Readable, opts: BuildOptions, progress: BuildProgress): Promise<string> {
    const dir = await mkdtemp(join(this.#d.tmpDir, 'build-'));
    try {
      return await new Run(this.#d, this.#cache, this.cacheMounts, opts, progress, dir).run(context);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

class Run {
  readonly #d: BuilderDeps;
  readonly #cache: BuildCache;
  readonly #cacheMounts: CacheMounts;
  readonly #o: BuildOptions;
  readonly #out: BuildProgress;
  readonly #dir: string;
  #ctx!: BuildContext;
  #file = 'Dockerfile';
  #escape = '\\';
  #total = 0;
  /** Where the running stage's output goes (stages run concurrently; see #stages). */
  readonly #sink = new AsyncLocalStorage<(text: string) => void>();
  /** Set when a stage failed: the others stop at their next step. */
  #failed = false;
  #mounts = 0;
  readonly #results = new Map<number, StageState>();
  readonly #usedArgs = new Set<string>();
  #globals = new Map<string, string | undefined>();
  /** `--cache-from` sources, or null. */
  #cacheFrom: CacheFrom | null = null;
  /** Step events for the client's display, when it asked (step-events.ts). */
  #steps: StepEvents | null = null;

  constructor(d: BuilderDeps, cache: BuildCache, cacheMounts: CacheMounts, o: BuildOptions, out: BuildProgress, dir: string) {
    this.#d = d;
    this.#cache = cache;
    this.#cacheMounts = cacheMounts;
    this.#o = o;
    this.#out = out;
    this.#dir = dir;
  }

  #say(text: string): void {
    if (this.#o.quiet) return;
    const sink = this.#sink.getStore();
    if (sink) this.#steps?.log(sink, text);
    if (sink) sink(text);
    else this.#out({ stream: text });
  }

  async run(tar: Readable): Promise<string> {
    this.#file = this.#o.dockerfile || 'Dockerfile';
    if (this.#o.stepEvents && !this.#o.quiet) this.#steps = new StepEvents(this.#out);
    this.#ctx = await BuildContext.unpack(tar, join(this.#dir, 'context'), this.#file, this.#o.signal);
    const parsed = parseDockerfile(await this.#ctx.readDockerfile(this.#file), basename(this.#file));
    this.#escape = parsed.directives.escape;
    for (const w of parsed.warnings) this.#say(`[Warning] ${w}\n`);
    if ((this.#o.cacheFrom ?? []).length > 0) {
      this.#cacheFrom = await CacheFrom.open({ resolve: (r) => this.#d.images.resolve(r), config: (id) => this.#d.images.config(id), lowerDirs: (c) => this.#d.layers.lowerDirs(c) }, this.#o.cacheFrom ?? [], (m) => this.#say(`${m}\n`));
    }
    const graph = stageGraph(parsed.instructions, basename(this.#file));
    for (const f of this.#o.noCacheFilter ?? []) {
      if (!graph.stages.some((s) => s.name === f.toLowerCase() || String(s.index) === f)) this.#say(`[Warning] --no-cache-filter ${f}: no stage has that name or index; nothing is filtered for it\n`);
    }
    const buildArgs = this.#o.buildArgs ?? {};
    for (const ins of graph.globalArgs) {
      for (const [name, def] of this.#argDecls(ins, (n) => this.#globals.get(n) ?? undefined)) {
        this.#globals.set(name, buildArgs[name] ?? def);
        if (name in buildArgs) this.#usedArgs.add(name);
      }
    }
    const globalLookup: Lookup = (n) => this.#globals.get(n) ?? proxyArg(buildArgs, n);
    const stages = neededStages(graph, this.#o.target, globalLookup);
    const last = stages.at(-1) as Stage;
    const labels = Object.entries(this.#o.labels ?? {});
    if (labels.length > 0) {
      // Docker's legacy builder appends the --label options as one more LABEL instruction.
      const text = labels.map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      last.instructions.push({ cmd: 'label', rest: text, original: `LABEL ${text}`, flags: [], json: null, heredocs: [], line: 0, endLine: 0 });
    }
    this.#total = stages.reduce((n, s) => n + 1 + s.instructions.length, 0);
    await this.#stages(graph, stages, globalLookup);
    const unused = Object.keys(buildArgs).filter((k) => !this.#usedArgs.has(k) && !PROXY_ARGS.has(k));
    if (unused.length > 0) this.#say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    const result = this.#results.get(last.index) as StageState;
    const id = result.imageId ?? await this.#commit(result, null, '');
    this.#out({ aux: { ID: id } });
    this.#say(`Successfully built ${short(id)}\n`);
    for (const t of this.#o.tags ?? []) {
      await this.#d.images.tag(id, t);
      this.#say(`Successfully tagged ${/:[^/]*$/.test(t) || t.includes('@') ? t : `${t}:latest`}\n`);
    }
    return id;
  }

  #checkAbort(): void {
    if (this.#o.signal?.aborted) throw new InvalidArgument('build canceled');
    if (this.#failed) throw new InvalidArgument('build canceled: another stage failed');
  }

  /**
   * Builds `stages` (dependencies first) as a graph: a stage starts when the stages it reads are
   * built, up to PARALLEL_STAGES at once. The output stays in Dockerfile order: the earliest
   * unfinished stage streams live, later ones are held back until it is done.
   */
  async #stages(graph: ReturnType<typeof stageGraph>, stages: Stage[], globalLookup: Lookup): Promise<void> {
    const held: string[][] = stages.map(() => []);
    const done = stages.map(() => false);
    let front = 0;
    const emit = (pos: number, text: string): void => {
      if (pos === front) this.#out({ stream: text });
      else held[pos]?.push(text);
    };
    const flush = (pos: number): void => {
      for (const text of held[pos] ?? []) this.#out({ stream: text });
      held[pos] = [];
    };
    const finished = (pos: number): void => {
      done[pos] = true;
      while (front < stages.length && done[front]) {
        front++;
        flush(front);
      }
    };
    const firstStep: number[] = [];
    let n = 0;
    for (const s of stages) { firstStep.push(n); n += 1 + s.instructions.length; }
    const deps = stages.map((s) => stageDeps(graph, s, globalLookup).map((d) => d.index));
    const started = new Set<number>();
    let running = 0;
    let failure: { err: unknown } | null = null;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (failure !== null || done.every(Boolean)) {
          if (running === 0) resolve();
          return;
        }
        stages.forEach((s, pos) => {
          if (running >= PARALLEL_STAGES || started.has(pos) || failure !== null) return;
          if (!(deps[pos] as number[]).every((d) => this.#results.has(d))) return;
          started.add(pos);
          running++;
          this.#sink.run((text) => emit(pos, text), () => this.#stage(graph, s, globalLookup, firstStep[pos] as number))
            .then((state) => { this.#results.set(s.index, state); finished(pos); }, (err: unknown) => { failure ??= { err }; this.#failed = true; })
            .finally(() => { running--; pump(); });
        });
      };
      pump();
    });
    if (failure !== null) {
      // The failing stage's output is shown in full, whatever its place.
      for (let pos = front + 1; pos < stages.length; pos++) flush(pos);
      throw (failure as { err: unknown }).err;
    }
  }

  #argDecls(ins: Instruction, lookup: Lookup): Array<[string, string | undefined]> {
    return splitWords(ins.rest, this.#escape).map((w) => {
      const eq = w.indexOf('=');
      if (eq < 0) return [w, undefined];
      return [w.slice(0, eq), expandWord(w.slice(eq + 1), lookup, this.#escape)];
    });
  }

  async #stage(graph: ReturnType<typeof stageGraph>, stage: Stage, globalLookup: Lookup, firstStep: number): Promise<StageState> {
    let step = firstStep;
    const sink = this.#sink.getStore() ?? this;
    const header = (ins: Instruction): void => {
      this.#steps?.start(sink, { step: step + 1, total: this.#total, stage: stage.name ?? `stage-${stage.index}`, stageStep: step + 1 - firstStep, stageSteps: 1 + stage.instructions.length, name: ins.original, line: ins.line, endLine: ins.endLine, file: basename(this.#file) });
      this.#say(`Step ${++step}/${this.#total} : ${ins.original}\n`);
    };
    header(stage.from);
    const base = expandWord(stage.baseRaw, globalLookup, this.#escape);
    let state: StageState;
    const dep = stageByName(graph, base, stage.index);
    if (dep) {
      const r = this.#results.get(dep.index) as StageState;
      state = { ...r, config: structuredClone(r.config), args: new Map(), cmdSet: false };
    } else if (base.toLowerCase() === 'scratch') {
      state = { imageId: null, chainId: null, config: {}, shell: DEFAULT_SHELL, args: new Map(), cmdSet: false };
    } else {
      const img = await this.#baseImage(base);
      const cfg = await this.#d.images.config(img.id);
      const config = structuredClone(cfg.config ?? {});
      state = { imageId: img.id, chainId: img.chainId, config, shell: config.Shell as string[] | undefined ?? DEFAULT_SHELL, args: new Map(), cmdSet: false };
    }
    this.#say(` ---> ${state.imageId ? short(state.imageId) : 'scratch'}\n`);
    // Docker's beginStage: a stage whose image sets no PATH gets the default one (`ENV PATH=/x:$PATH` works).
    if (!(state.config.Env ?? []).some((e) => e.startsWith('PATH='))) state.config.Env = [...(state.config.Env ?? []), DEFAULT_PATH];
    state.noCache = (this.#o.noCacheFilter ?? []).some((f) => f.toLowerCase() === stage.name || f === String(stage.index));
    const triggers = state.config.OnBuild ?? [];
    if (triggers.length > 0) {
      this.#say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      state.config.OnBuild = [];
      for (const ins of parseDockerfile(triggers.join('\n'), 'ONBUILD').instructions) await this.#instruction(graph, stage, state, ins);
    }
    for (const ins of stage.instructions) {
      this.#checkAbort();
      header(ins);
      try {
        await this.#instruction(graph, stage, state, ins);
      } catch (err) {
        if (err instanceof HakoError && ins.line > 0 && !(err instanceof BuildStepError) && !/^\S+:\d+: /.test(err.message)) {
          err.message = `${basename(this.#file)}:${ins.line}: ${ins.cmd.toUpperCase()} failed: ${err.message}`;
        }
        this.#steps?.error(sink, err instanceof Error ? err.message : String(err));
        throw err;
      }
    }
    this.#steps?.done(sink);
    return state;
  }

  async #baseImage(ref: string): Promise<{ id: string; chainId: string | null }> {
    if (this.#o.pull && this.#d.pull) await this.#d.pull(ref, () => {}, this.#o.signal);
    try {
      return this.#d.images.resolve(ref);
    } catch (err) {
      if (!(err instanceof NotFound) || !this.#d.pull) throw err;
    }
    await this.#d.pull(ref, (m) => { if (typeof m.status === 'string') this.#say(`${m.status}\n`); }, this.#o.signal);
    return this.#d.images.resolve(ref);
  }

  /** Variables for substitution: ENV wins over ARG (reference.md "Using ARG variables"). */
  #lookup(state: StageState): Lookup {
    return (name) => {
      for (const e of state.config.Env ?? []) {
        const eq = e.indexOf('=');
        if (e.slice(0, eq) === name) return e.slice(eq + 1);
      }
      if (state.args.has(name)) return state.args.get(name);
      return proxyArg(this.#o.buildArgs ?? {}, name);
    };
  }

  /** The args in scope with a value, sorted, for RUN's environment and cache key. */
  #argEnv(state: StageState): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [k, v] of state.args) if (v !== undefined) out.push([k, v]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  async #instruction(graph: ReturnType<typeof stageGraph>, stage: Stage, state: StageState, ins: Instruction): Promise<void> {
    const used = new Set<string>();
    const lookup = this.#lookup(state);
    const word = (s: string): string => expandWord(s, lookup, this.#escape, used);
    const words = (s: string): string[] => expandWords(s, lookup, this.#escape, used);
    const usedArgs = (): Array<[string, string]> => [...used].filter((n) => state.args.has(n)).map((n) => [n, state.args.get(n) ?? '']);
    const nop = (comment: string, change: () => void): Promise<void> => this.#configStep(state, comment, usedArgs(), change);

    switch (ins.cmd) {
      case 'run':
        return this.#runStep(graph, stage, state, ins, word);
      case 'copy':
      case 'add':
        return this.#copyStep(graph, stage, state, ins, word, usedArgs);
      case 'workdir': {
        const dir = posix.resolve(state.config.WorkingDir || '/', word(ins.rest));
        return this.#workdirStep(state, dir, usedArgs());
      }
      case 'env': {
        const pairs = keyValues(ins, words, word, this.#escape);
        return nop(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
          const env = [...(state.config.Env ?? [])];
          for (const [k, v] of pairs) {
            const at = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k);
            if (at >= 0) env[at] = `${k}=${v}`;
            else env.push(`${k}=${v}`);
          }
          state.config.Env = env;
        });
      }
      case 'label': {
        const pairs = keyValues(ins, words, word, this.#escape);
        return nop(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
          state.config.Labels = { ...(state.config.Labels ?? {}) };
          for (const [k, v] of pairs) state.config.Labels[k] = v;
        });
      }
      case 'arg': {
        const decls = this.#argDecls(ins, lookup);
        const buildArgs = this.#o.buildArgs ?? {};
        for (const [name, def] of decls) {
          let value = def;
          if (value === undefined && this.#globals.has(name)) value = this.#globals.get(name);
          if (buildArgs[name] !== undefined && buildArgs[name] !== null) value = buildArgs[name] as string;
          if (name in buildArgs) this.#usedArgs.add(name);
          state.args.set(name, value);
        }
        return nop(`ARG ${decls.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`, () => {});
      }
      case 'expose': {
        const written = words(ins.rest);
        const ports = written.flatMap(expandPorts);
        // History keeps the ports as written (after substitution), as docker's dispatchExpose does.
        return nop(`EXPOSE ${written.join(' ')}`, () => {
          state.config.ExposedPorts = { ...(state.config.ExposedPorts ?? {}) };
          for (const p of ports) state.config.ExposedPorts[p] = {};
        });
      }
      case 'volume': {
        const vols = ins.json ? ins.json.map(word) : words(ins.rest);
        if (vols.some((v) => v.trim() === '')) throw new InvalidArgument('VOLUME specified can not be an empty string');
        return nop(`VOLUME [${vols.join(' ')}]`, () => {
          state.config.Volumes = { ...(state.config.Volumes ?? {}) };
          for (const v of vols) state.config.Volumes[v] = {};
        });
      }
      case 'user': {
        const user = word(ins.rest);
        return nop(`USER ${user}`, () => { state.config.User = user; });
      }
      case 'stopsignal': {
        const sig = word(ins.rest);
        if (!/^(SIG)?[A-Z0-9+-]+$/i.test(sig)) throw new InvalidArgument(`invalid signal: ${sig}`);
        return nop(`STOPSIGNAL ${sig}`, () => { state.config.StopSignal = sig; });
      }
      case 'cmd':
      case 'entrypoint': {
        const argv = ins.json ?? [...state.shell, ins.rest];
        const key = ins.cmd === 'cmd' ? 'Cmd' : 'Entrypoint';
        return nop(`${key.toUpperCase()} ${goQuote(argv)}`, () => {
          state.config[key] = argv;
          if (ins.cmd === 'cmd') state.cmdSet = true;
          else if (!state.cmdSet) state.config.Cmd = null;
        });
      }
      case 'shell': {
        const shell = ins.json as string[];
        if (shell.length === 0) throw new InvalidArgument('SHELL requires at least one argument');
        return nop(`SHELL [${shell.join(' ')}]`, () => { state.shell = shell; state.config.Shell = shell; });
      }
      case 'healthcheck': {
        const hc = healthcheck(ins, state.shell);
        return nop(`HEALTHCHECK ${hcText(hc)}`, () => { state.config.Healthcheck = hc; });
      }
      case 'onbuild': {
        const trigger = ins.rest.trim();
        return nop(`ONBUILD ${trigger}`, () => { state.config.OnBuild = [...(state.config.OnBuild ?? []), trigger]; });
      }
      case 'maintainer': {
        const who = ins.rest.trim();
        return nop(`MAINTAINER ${who}`, () => { state.author = who; });
      }
      default:
        throw new InvalidArgument(`unknown instruction: ${ins.cmd.toUpperCase()}`);
    }
  }

  /** A step that only changes the config: cached by parent + comment + the args it used. */
  async #configStep(state: StageState, comment: string, args: Array<[string, string]>, change: () => void): Promise<void> {
    change();
    const key = stepKey({ parent: state.imageId ?? 'scratch', instruction: comment, args });
    const createdBy = `${state.shell.join(' ')} #(nop)  ${comment}`;
    await this.#cached(state, key, () => this.#commit(state, null, createdBy), undefined, createdBy);
  }

  /** Looks `key` up (unless --no-cache); on a miss runs `make` and remembers its image. */
  async #cached(state: StageState, key: string, make: () => Promise<string>, inputs?: { slot: string; now: Record<string, string> }, createdBy?: string | (() => Promise<string>)): Promise<void> {
    const hit = this.#o.noCache || state.noCache ? null : this.#cache.get(key);
    if (hit === null && inputs && !this.#o.noCache && !state.noCache) {
      const why = missReason(this.#cache.inputs(inputs.slot), inputs.now);
      if (why !== null) this.#say(` ---> Cache miss: ${why}\n`);
    }
    let id: string | null = null;
    if (hit !== null) {
      try {
        const rec = this.#d.images.resolve(hit);
        id = rec.id;
        state.chainId = rec.chainId;
        state.config = structuredClone((await this.#d.images.config(rec.id)).config ?? {});
        this.#say(' ---> Using cache\n');
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        this.#cache.forget(key);
      }
    }
    if (id === null) {
      id = (createdBy !== undefined ? await this.#fromCacheSources(state, createdBy) : null) ?? await make();
      this.#cache.put(key, id);
      if (inputs) this.#cache.putInputs(inputs.slot, inputs.now);
      state.chainId = this.#d.images.resolve(id).chainId;
    }
    state.imageId = id;
    this.#say(` ---> ${short(id)}\n`);
  }

  /** A step's image made from a `--cache-from` source whose history has it next (cache-from.ts), or null. */
  async #fromCacheSources(state: StageState, step: string | (() => Promise<string>)): Promise<string | null> {
    if (this.#cacheFrom === null || this.#o.noCache || state.noCache) return null;
    const createdBy = typeof step === 'string' ? step : await step();
    const m = await this.#cacheFrom.match(state.imageId, createdBy);
    if (m === null) return null;
    const lowers = state.chainId ? this.#d.layers.lowerDirs(state.chainId) : [];
    const id = await this.#commit(state, m.layer ? CacheFrom.layerTar(m.layer.dir, lowers) : null, createdBy);
    // The same line as a local hit: docker's CLI and `hako build --progress=plain` show CACHED.
    this.#say(' ---> Using cache\n');
    return id;
  }

  /** `layer`: a tar, or an unmounted upper dir over `lowerDirs` that the image store takes as it is. */
  async #commit(state: StageState, layer: Readable | { dir: string; lowerDirs: string[] } | null, createdBy: string): Promise<string> {
    const isDir = layer !== null && 'lowerDirs' in layer;
    const res = await this.#d.images.commit({
      parentId: state.imageId,
      layerTar: isDir ? null : layer,
      ...(isDir ? { layerDir: layer } : {}),
      config: structuredClone(state.config),
      createdBy,
      ...(state.author ? { author: state.author } : {}),
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    });
    return res.Id;
  }

  async #runStep(graph: ReturnType<typeof stageGraph>, stage: Stage, state: StageState, ins: Instruction, word: (s: string) => string): Promise<void> {
    const mounts = ins.flags.filter((f) => f.name === 'mount').map((f) => parseRunMount(word(f.value ?? ''), state.config.WorkingDir || '/'));
    const mountKey = await this.#mountKey(graph, stage, mounts);
    if (flagValue(ins, 'security') !== undefined) throw new NotImplemented('RUN --security is not supported by hako build');
    const network = flagValue(ins, 'network');
    if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw new InvalidArgument(`RUN --network=${network}: use default, none or host`);
    let argv: string[];
    if (ins.json) argv = ins.json;
    else if (ins.heredocs.length > 0 && /^<<-?["']?[A-Za-z_]/.test(ins.rest.trim())) {
      // `RUN <<EOF` alone: the heredoc is the script, run by the shell.
      const doc = ins.heredocs[0] as Instruction['heredocs'][number];
      const body = doc.content;
      const shebang = body.startsWith('#!');
      argv = shebang ? [...state.shell, `cat > /.hako-heredoc <<'${doc.name}'\n${body}${doc.name}\nchmod +x /.hako-heredoc && /.hako-heredoc; rc=$?; rm -f /.hako-heredoc; exit $rc`] : [...state.shell, body];
    } else if (ins.heredocs.length > 0) {
      // Heredocs fed to a command (`RUN cat <<EOF > f`): the shell reads them from the script.
      argv = [...state.shell, `${ins.rest}\n${ins.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`];
    } else argv = [...state.shell, ins.rest];
    const args = this.#argEnv(state).filter(([k]) => !PROXY_ARGS.has(k));
    const proxies = Object.entries(this.#o.buildArgs ?? {}).filter((e): e is [string, string] => PROXY_ARGS.has(e[0]) && e[1] !== null);
    const createdBy = (args.length > 0 ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '') + argv.join(' ');
    const key = stepKey({ parent: state.imageId ?? 'scratch', instruction: `RUN ${network ?? ''} ${JSON.stringify(argv)}${mountKey}`, args: [...args, ...proxies], content: JSON.stringify(state.config) });
    const runInputs = { slot: stepKey({ parent: state.imageId ?? 'scratch', instruction: `RUN ${network ?? ''} ${JSON.stringify(argv)}${mountKey.replace(/"content":"[0-9a-f]+"/g, '')}`, args: [] }), now: Object.fromEntries([...args, ...proxies].map(([k, v]) => [`arg:${k}`, v])) };
    await this.#cached(state, key, async () => {
      if (state.imageId === null) throw new InvalidArgument('RUN in a stage FROM scratch: there is no shell to run it; COPY a filesystem in first');
      const prepared = await this.#prepareMounts(graph, stage, mounts);
      try {
        return await this.#runContainer(state, argv, [...args, ...proxies], network, prepared, createdBy);
      } finally {
        await prepared.release();
      }
    }, runInputs, mounts.length === 0 ? createdBy : undefined);
  }

  /** What the mounts add to a RUN's cache key: their specs, and the content a bind mount shows. */
  async #mountKey(graph: ReturnType<typeof stageGraph>, stage: Stage, mounts: RunMount[]): Promise<string> {
    if (mounts.length === 0) return '';
    const parts: unknown[] = [];
    for (const m of mounts) {
      if (m.type === 'bind') {
        let content: string;
        if (m.from === undefined) {
          const rel = inContext(m.source, m.source);
          content = await this.#ctx.hash(await this.#ctx.entries(rel));
        } else content = (await this.#sourceImage(graph, stage, m.from)).id;
        parts.push({ ...m, content });
      } else if (m.type === 'secret') parts.push({ type: m.type, id: m.id, target: m.target, env: m.env ?? null, mode: m.mode, uid: m.uid, gid: m.gid });
      else parts.push(m);
    }
    return ` mounts:${JSON.stringify(parts)}`;
  }

  /** A stage's result or an image, for `--from=` of COPY and RUN --mount. */
  async #sourceImage(graph: ReturnType<typeof stageGraph>, stage: Stage, from: string): Promise<{ id: string; chainId: string | null }> {
    const dep = stageByName(graph, from, stage.index);
    if (dep) {
      const r = this.#results.get(dep.index);
      if (!r) throw new InvalidArgument(`--from=${from}: stage was not built`);
      return { id: r.imageId ?? 'scratch', chainId: r.chainId };
    }
    return this.#baseImage(from);
  }

  /** HostConfig.Mounts and Env for a RUN's `--mount`s; `release` undoes what was set up. */
  async #prepareMounts(graph: ReturnType<typeof stageGraph>, stage: Stage, mounts: RunMount[]): Promise<{ mounts: Json[]; env: string[]; release: () => Promise<void> }> {
    const out: Json[] = [];
    const env: string[] = [];
    const undo: Array<() => Promise<void>> = [];
    const release = async (): Promise<void> => { for (const u of undo.reverse()) await u().catch(() => undefined); };
    try {
      for (const m of mounts) {
        switch (m.type) {
          case 'cache': {
            if (m.source !== undefined && m.from === undefined) throw new InvalidArgument(`RUN --mount=type=cache,source=${m.source}: source= needs from=STAGE|IMAGE to read it from`);
            // Seeded from a stage or image: the cache is that seed's own (its id names the seed), so a changed stage starts a fresh one.
            const seedImg = m.from !== undefined ? await this.#sourceImage(graph, stage, m.from) : null;
            const id = seedImg ? `${m.id}\0from=${seedImg.id}:${posix.resolve('/', m.source ?? '/')}` : m.id;
            const seed = seedImg ? async (dir: string): Promise<void> => {
              const mnt = join(this.#dir, `mnt-${++this.#mounts}`);
              const root = await this.#d.layers.mountRootfs(seedImg.chainId, mnt);
              try {
                const src = await resolveInRoot(root, posix.resolve('/', m.source ?? '/'));
                const st = await lstat(src).catch(() => null);
                if (!st?.isDirectory()) throw new NotFound(`RUN --mount=type=cache,from=${m.from}: source ${m.source ?? '/'} is not a directory in ${m.from}`);
                await promisify(execFile)('cp', ['-a', `${src}/.`, dir]);
              } finally {
                await this.#d.layers.unmountRootfs(mnt);
                await rm(mnt, { recursive: true, force: true });
              }
            } : undefined;
            const held = await this.#cacheMounts.acquire(id, m.sharing, { ...(m.mode !== undefined ? { mode: m.mode } : {}), ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.gid !== undefined ? { gid: m.gid } : {}), ...(seed ? { seed } : {}) });
            undo.push(held.release);
            out.push({ Type: 'bind', Source: held.dir, Target: m.target, ReadOnly: m.readonly });
            break;
          }
          case 'bind': {
            let source: string;
            if (m.from === undefined) {
              await this.#ctx.materialize();
              source = join(this.#ctx.root, inContext(m.source, m.source));
            } else {
              const img = await this.#sourceImage(graph, stage, m.from);
              const dir = join(this.#dir, `mnt-${++this.#mounts}`);
              const root = await this.#d.layers.mountRootfs(img.chainId, dir);
              undo.push(async () => { await this.#d.layers.unmountRootfs(dir); await rm(dir, { recursive: true, force: true }); });
              source = await resolveInRoot(root, posix.resolve('/', m.source));
            }
            if (!(await lstat(source).catch(() => null))) throw new NotFound(`RUN --mount=type=bind: ${m.from !== undefined ? `--from=${m.from} ` : ''}source ${m.source} does not exist`);
            if (m.readwrite && m.from === undefined) {
              // rw: the RUN may write, the writes are thrown away: it gets a copy.
              const copy = join(this.#dir, `bind-${++this.#mounts}`);
              await promisify(execFile)('cp', ['-a', source, copy]);
              undo.push(() => rm(copy, { recursive: true, force: true }));
              source = copy;
            }
            out.push({ Type: 'bind', Source: source, Target: m.target, ReadOnly: !m.readwrite });
            break;
          }
          case 'tmpfs':
            out.push({ Type: 'tmpfs', Target: m.target, ...(m.size !== undefined ? { TmpfsOptions: { SizeBytes: m.size } } : {}) });
            break;
          case 'secret': {
            const value = this.#o.secrets?.[m.id];
            if (value === undefined) {
              if (m.required) throw new InvalidArgument(`secret ${m.id}: not provided: pass it with --secret id=${m.id},src=FILE (or env=VAR)`);
              break;
            }
            if (m.env) env.push(`${m.env}=${value.toString('utf8')}`);
            if (m.target === '') break;
            const dir = join(this.#dir, 'secrets');
            await mkdir(dir, { recursive: true, mode: 0o700 });
            const file = join(dir, randomBytes(8).toString('hex'));
            await writeFile(file, value, { mode: m.mode });
            await chmod(file, m.mode);
            await lchown(file, m.uid, m.gid);
            undo.push(() => rm(file, { force: true }));
            out.push({ Type: 'bind', Source: file, Target: m.target, ReadOnly: true });
            break;
          }
        }
      }
    } catch (err) {
      await release();
      throw err;
    }
    return { mounts: out, env, release };
  }

  async #runContainer(state: StageState, argv: string[], args: Array<[string, string]>, network: string | undefined, mounts: { mounts: Json[]; env: string[] }, createdBy: string): Promise<string> {
    {
      const { containers } = this.#d;
      const body: Json = {
        Image: state.imageId,
        Cmd: argv,
        Entrypoint: [],
        Env: [...(state.config.Env ?? []), ...args.map(([k, v]) => `${k}=${v}`), ...mounts.env],
        WorkingDir: state.config.WorkingDir ?? '',
        User: state.config.User ?? '',
        Labels: {},
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { NetworkMode: network ?? this.#o.networkMode ?? 'default', ...(mounts.mounts.length > 0 ? { Mounts: mounts.mounts } : {}) },
      };
      const { Id } = await containers.create(body, { scratch: true });
      this.#say(` ---> Running in ${short(Id)}\n`);
      try {
        const session = await containers.attach(Id, { stream: true, logs: false, stdin: false, stdout: true, stderr: true });
        let code: number;
        try {
          await containers.start(Id);
          for await (const chunk of session.output) this.#say(chunk.data.toString('utf8'));
          code = (await containers.wait(Id, 'not-running', this.#o.signal)).StatusCode;
        } finally {
          session.close();
        }
        if (code !== 0) throw new BuildStepError(`The command '${argv.join(' ')}' returned a non-zero code: ${code}`, code);
        const info = await containers.inspect(Id);
        const data = ((info.GraphDriver as Json | undefined)?.Data ?? {}) as Record<string, string>;
        const upper = data.UpperDir as string;
        const lowers = state.chainId ? this.#d.layers.lowerDirs(state.chainId) : [];
        await dropMountPoints(upper, lowers, mounts.mounts.map((m) => String(m.Target)));
        const changed = await hasChanges(upper, lowers);
        if (!changed) return await this.#commit(state, null, createdBy);
        // The container is done: its upper dir becomes the layer as it is (unmounted first).
        await this.#d.layers.unmountRootfs(dirname(upper));
        return await this.#commit(state, { dir: upper, lowerDirs: lowers }, createdBy);
      } finally {
        await containers.remove(Id, { force: true }).catch(() => undefined);
        this.#say(` ---> Removed intermediate container ${short(Id)}\n`);
      }
    }
  }

  /** Mounts the state's image (overlay, a fresh upper dir), runs `fn` on the merged root, returns the layer of what changed or null. */
  async #withRootfs<T>(state: StageState, fn: (root: string) => Promise<T>, createdBy: string | (() => string)): Promise<string> {
    const dir = join(this.#dir, `mnt-${++this.#mounts}`);
    // volatile: the unmount does not write back the whole host filesystem (the layer is tarred into the content store).
    const root = await this.#d.layers.mountRootfs(state.chainId, dir, { volatile: true });
    try {
      await fn(root);
    } finally {
      await this.#d.layers.unmountRootfs(dir);
    }
    try {
      const upper = join(dir, 'diff');
      const lowers = state.chainId ? this.#d.layers.lowerDirs(state.chainId) : [];
      const changed = await hasChanges(upper, lowers);
      return await this.#commit(state, changed ? { dir: upper, lowerDirs: lowers } : null, typeof createdBy === 'string' ? createdBy : createdBy());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The merged root of another stage or image, read-only use, for COPY --from. */
  async #readRoot<T>(chainId: string | null, fn: (root: string) => Promise<T>): Promise<T> {
    const dir = join(this.#dir, `mnt-${++this.#mounts}`);
    const root = await this.#d.layers.mountRootfs(chainId, dir, { volatile: true });
    try {
      return await fn(root);
    } finally {
      await this.#d.layers.unmountRootfs(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #workdirStep(state: StageState, dir: string, args: Array<[string, string]>): Promise<void> {
    state.config.WorkingDir = dir;
    const key = stepKey({ parent: state.imageId ?? 'scratch', instruction: `WORKDIR ${dir}`, args });
    await this.#cached(state, key, () => this.#withRootfs(state, async (root) => {
      const target = await resolveInRoot(root, dir);
      await mkdir(target, { recursive: true, mode: 0o755 });
    }, `${state.shell.join(' ')} #(nop) WORKDIR ${dir}`), undefined, `${state.shell.join(' ')} #(nop) WORKDIR ${dir}`);
  }

  /**
   * COPY/ADD: the instruction read (copy-spec.ts), its sources chosen (copy-sources.ts), its key
   * and created_by hashed from them without copying (copy-key.ts), then, on a miss, the copy
   * into an overlay of the parent (copy-apply.ts).
   */
  async #copyStep(graph: ReturnType<typeof stageGraph>, stage: Stage, state: StageState, ins: Instruction, word: (s: string) => string, usedArgs: () => Array<[string, string]>): Promise<void> {
    const spec = copySpec(ins, word, this.#escape, state.config.WorkingDir || '/');
    const ctx = selectionContext(this.#ctx, spec);
    const comment = copyComment(spec);
    const parent = state.imageId ?? 'scratch';
    const slot = stepKey({ parent, instruction: comment, args: [] });
    const argInputs = (): Record<string, string> => Object.fromEntries(usedArgs().map(([k, v]) => [`arg:${k}`, v]));
    if (spec.fromRaw !== undefined) {
      const image = await this.#sourceImage(graph, stage, word(spec.fromRaw));
      const key = stepKey({ parent, instruction: comment, args: usedArgs(), content: image.id });
      // The sources' hashes, taken once: by a --cache-from lookup, which needs the created_by before any copy, or by the copy.
      let hashes: string[] | null = null;
      const copy = (): Promise<string> => this.#withRootfs(state, (root) => this.#readRoot(image.chainId, async (srcRoot) => {
        const sources = await imageSources(srcRoot, spec);
        hashes ??= await imageSourceHashes(srcRoot, sources);
        await copyImageSources(root, srcRoot, sources, spec, image.chainId ? this.#d.layers.lowerDirs(image.chainId) : []);
      }), () => copyCreatedBy(state.shell, spec, hashes ?? []));
      const createdBy = async (): Promise<string> => {
        hashes ??= await this.#readRoot(image.chainId, async (srcRoot) => imageSourceHashes(srcRoot, await imageSources(srcRoot, spec)));
        return copyCreatedBy(state.shell, spec, hashes);
      };
      return this.#cached(state, key, copy, { slot, now: argInputs() }, createdBy);
    }
    const sources = await contextSources(ctx, spec, {
      heredocs: ins.heredocs,
      expand: (body) => expandHeredoc(body, this.#lookup(state), this.#escape),
      download: (url) => download(url, join(this.#dir, `url-${++this.#mounts}`), { ...(spec.sel.checksum !== undefined ? { checksum: spec.sel.checksum } : {}), ...(this.#o.signal ? { signal: this.#o.signal } : {}) }),
    });
    const { fileHashes, contentHash, sourceHashes } = await contextKeyInputs(ctx, sources);
    const key = stepKey({ parent, instruction: comment, args: usedArgs(), content: contentHash });
    const createdBy = copyCreatedBy(state.shell, spec, sourceHashes);
    await this.#cached(state, key, () => this.#withRootfs(state, (root) => copyContextSources(root, ctx, sources, spec), createdBy), { slot, now: { ...fileHashes, ...argInputs() } }, createdBy);
  }
}

/**
 * runc makes the mount points of a RUN's `--mount`s that the image lacks; they are not the
 * step's doing, so they leave the upper dir (with the parents made only for them) before the diff.
 */
async function dropMountPoints(upper: string, lowers: string[], targets: string[]): Promise<void> {
  const inLowers = async (rel: string): Promise<boolean> => {
    for (const l of lowers) if (await lstat(join(l, rel)).then(() => true, () => false)) return true;
    return false;
  };
  for (const target of [...targets].sort((a, b) => b.length - a.length)) {
    let rel = posix.normalize(target).replace(/^\/+/, '');
    while (rel !== '' && rel !== '.') {
      const abs = join(upper, rel);
      const st = await lstat(abs).catch(() => null);
      if (!st || await inLowers(rel)) break;
      if (st.isDirectory()) {
        if ((await readdir(abs)).length > 0) break;
        await rm(abs, { recursive: true });
      } else if (st.isFile() && st.size === 0) await rm(abs);
      else break;
      rel = posix.dirname(rel);
    }
  }
}

/** ENV/LABEL pairs: `k=v k2="v 2"` or the legacy `k value with spaces`. */
function keyValues(ins: Instruction, words: (s: string) => string[], word: (s: string) => string, escape: string): Array<[string, string]> {
  const raw = splitWords(ins.rest, escape);
  if (raw.length > 0 && !(raw[0] as string).includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(ins.rest.trim());
    return [[word(m?.[1] ?? ''), word(m?.[2] ?? '')]];
  }
  return words(ins.rest).map((w) => {
    const eq = w.indexOf('=');
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

function proxyArg(buildArgs: Record<string, string | null>, name: string): string | undefined {
  return PROXY_ARGS.has(name) ? buildArgs[name] ?? undefined : undefined;
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
