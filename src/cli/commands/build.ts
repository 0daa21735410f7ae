/**
 * `hako build [OPTIONS] PATH | -`: packs the context directory (without what `.dockerignore`
 * leaves out; the Dockerfile and .dockerignore always go), streams it to POST /build, and shows
 * the progress: on a terminal (`--progress tty`, or auto when stderr is one) BuildKit-like frames
 * on stderr (../build-display/), else docker's classic output, or with `--progress plain` one `#N`
 * line per step output with CACHED for steps taken from the cache; `-q`/`--progress quiet` the id.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { packBuildContext as packContext } from '../../archive/index.js';
import { jsonLines } from '../../client/index.js';
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';

export const build: Command = {
  spec: {
    use: '[OPTIONS] PATH | -',
    short: 'Build an image from a Dockerfile',
    aliases: 'hako image build, hako build, hako builder build',
    flags: [
      { name: 'tag', short: 't', kind: 'stringArray', usage: 'Name and optionally a tag in the "name:tag" format' },
      { name: 'file', short: 'f', kind: 'string', usage: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
      { name: 'build-arg', kind: 'stringArray', usage: 'Set build-time variables' },
      { name: 'target', kind: 'string', usage: 'Set the target build stage to build' },
      { name: 'label', kind: 'stringArray', usage: 'Set metadata for an image' },
      { name: 'no-cache', kind: 'bool', usage: 'Do not use cache when building the image' },
      { name: 'no-cache-filter', kind: 'stringArray', usage: 'Do not cache specified stages' },
      { name: 'cache-from', kind: 'stringArray', usage: 'External cache sources (images)' },
      { name: 'pull', kind: 'bool', usage: 'Always attempt to pull a newer version of the image' },
      { name: 'progress', kind: 'string', usage: 'Set type of progress output ("auto", "plain", "tty", "quiet")' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the build output and print image ID on success' },
      { name: 'iidfile', kind: 'string', usage: 'Write the image ID to the file' },
      { name: 'network', kind: 'string', usage: 'Set the networking mode for the RUN instructions during build' },
      { name: 'platform', kind: 'string', usage: 'Set platform if server is multi-platform capable' },
      { name: 'secret', kind: 'stringArray', usage: 'Secret to expose to the build (format: "id=mysecret[,src=/local/secret]" or "id=mysecret,env=VAR")' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const progress = flags.string('progress') || 'auto';
    if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw new StatusError(125, `invalid --progress "${progress}": use auto, plain, tty or quiet`);
    const platform = flags.string('platform');
    if (platform && !/^linux(\/(amd64|x86_64))?$/.test(platform) && process.arch === 'x64') throw new StatusError(125, `--platform ${platform}: hako builds for linux/amd64 only`);
    const buildArgs: Record<string, string | null> = {};
    for (const a of flags.array('build-arg')) {
      const eq = a.indexOf('=');
      // `--build-arg K` takes K from the environment, as docker does; unset stays unset.
      if (eq < 0) buildArgs[a] = process.env[a] ?? null;
      else buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
    }
    const labels: Record<string, string> = {};
    for (const l of flags.array('label')) {
      const eq = l.indexOf('=');
      labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
    }
    const secrets = await parseSecrets(flags.array('secret'));
    const contextArg = args[0] as string;
    const file = flags.string('file');
    let context: Readable;
    /** The Dockerfile's text when it is at hand, for the TTY display's error snippet. */
    let dockerfileText: string | undefined;
    let dockerfile: string | undefined;
    if (contextArg === '-') {
      if (file === '-') throw new StatusError(125, 'invalid argument: can\'t use stdin for both build context and dockerfile');
      context = cli.stdin;
      dockerfile = file || undefined;
    } else {
      const dir = resolve(contextArg);
      const st = await lstat(dir).catch(() => null);
      if (!st?.isDirectory()) throw new StatusError(1, `unable to prepare context: path "${contextArg}" not found`);
      let extra: { name: string; content: Buffer } | null = null;
      if (file === '-') {
        extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: await readAll(cli.stdin) };
        dockerfile = extra.name;
      } else if (file) {
        const abs = resolve(file);
        const rel = relative(dir, abs);
        if (rel.startsWith('..') || isAbsolute(rel)) {
          // A Dockerfile outside the context travels inside it under a random name, as docker does.
          extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: await readFile(abs) };
          dockerfile = extra.name;
        } else dockerfile = rel.split(sep).join('/');
      }
      context = await packContext(dir, dockerfile ?? 'Dockerfile', extra);
      dockerfileText = extra ? extra.content.toString('utf8') : await readFile(join(dir, dockerfile ?? 'Dockerfile'), 'utf8').catch(() => undefined);
    }
    const client = await cli.client();
    const quiet = flags.bool('quiet') || progress === 'quiet';
    // The TTY display (build-display/) draws on stderr, as buildx does: auto picks it when stderr is a terminal.
    const errTty = cli.stderr as typeof cli.stderr & { columns?: number; rows?: number };
    const tty = !quiet && (progress === 'tty' || (progress === 'auto' && errTty.isTTY === true && process.env.TERM !== 'dumb'));
    const network = flags.string('network');
    const target = flags.string('target');
    const res = await client.imageBuild(context, {
      tags: flags.array('tag'), buildArgs, labels, noCache: flags.bool('no-cache'), quiet, pull: flags.bool('pull'),
      ...(dockerfile ? { dockerfile } : {}), ...(target ? { target } : {}), ...(network ? { networkMode: network } : {}),
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      cacheFrom: flags.array('cache-from').map((c) => cacheFromRef(c)), noCacheFilter: flags.array('no-cache-filter').flatMap((s) => s.split(',')).filter((s) => s !== ''),
      // Step events: the TTY display's input; otherwise only the failing step's Dockerfile line is taken from them.
      ...(quiet ? {} : { stepEvents: true }),
    });
    if (tty) {
      const { followBuildOnTty } = await import('../build-display/index.js');
      const built = await followBuildOnTty(jsonLines(res), {
        out: cli.stderr, tags: flags.array('tag'), ...(dockerfileText !== undefined ? { dockerfile: dockerfileText } : {}),
        ...(errTty.columns ? { width: errTty.columns } : {}), ...(errTty.rows ? { rows: errTty.rows } : {}),
      });
      const iidfile = flags.string('iidfile');
      if (iidfile) await writeFile(iidfile, built);
      return;
    }
    let id = '';
    let step = 0;
    let partial = '';
    const plain = progress === 'plain';
    const show = (text: string): void => {
      if (quiet) return;
      if (!plain) { cli.stdout.write(text); return; }
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
        if (m) { step = Number(m[1]); cli.stdout.write(`#${step} [${m[1]}/${m[2]}] ${m[3]}\n`); continue; }
        if (line === ' ---> Using cache') { cli.stdout.write(`#${step} CACHED\n`); continue; }
        if (line.startsWith(' ---> Cache miss: ')) { cli.stdout.write(`#${step} cache miss: ${line.slice(18)}\n`); continue; }
        cli.stdout.write(step > 0 ? `#${step} ${line.replace(/^ ---> /, '')}\n` : `${line}\n`);
      }
    };
    /** `Dockerfile:7` of the step that failed, when hakod said which (its step events). */
    let failedAt = '';
    const stepLines = new Map<number, string>();
    for await (const msg of jsonLines(res)) {
      if (msg.error || msg.errorDetail?.message) {
        if (partial) show('\n');
        const code = (msg.errorDetail as { code?: number } | undefined)?.code;
        const message = msg.errorDetail?.message ?? msg.error ?? 'build failed';
        throw new StatusError(typeof code === 'number' && code > 0 ? code : 1, failedAt && !/^\S+:\d+: /.test(message) ? `${failedAt}: ${message}` : message);
      }
      if (msg.id === 'hako.build.step') {
        const ev = msg.aux as { event?: string; step?: number; line?: number; file?: string } | undefined;
        if (ev?.event === 'start' && ev.line) stepLines.set(ev.step ?? 0, `${ev.file ?? 'Dockerfile'}:${ev.line}`);
        if (ev?.event === 'error') failedAt = stepLines.get(ev.step ?? 0) ?? '';
        continue;
      }
      const aux = msg.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
      if (typeof msg.stream === 'string') show(msg.stream);
    }
    if (partial) show('\n');
    if (!id) throw new StatusError(1, 'the daemon ended the build without an image id');
    if (quiet) cli.out(id);
    const iidfile = flags.string('iidfile');
    if (iidfile) await writeFile(iidfile, id);
  },
};

/** `--secret id=x,src=FILE` | `id=x,env=VAR` | `id=x` (src or env named like the id, as buildx does). */
async function parseSecrets(specs: string[]): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const spec of specs) {
    const kv = new Map<string, string>();
    for (const f of spec.split(',')) {
      const eq = f.indexOf('=');
      if (eq < 0) throw new StatusError(125, `invalid --secret "${spec}": use id=NAME,src=FILE or id=NAME,env=VAR`);
      kv.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1));
    }
    const type = kv.get('type') ?? 'file';
    if (!['file', 'env'].includes(type)) throw new StatusError(125, `invalid --secret "${spec}": type must be file or env`);
    const src = kv.get('src') ?? kv.get('source');
    const env = kv.get('env');
    const id = kv.get('id') ?? (src ? src.split('/').pop() as string : env);
    if (!id) throw new StatusError(125, `invalid --secret "${spec}": id= is required`);
    if (src !== undefined && type !== 'env') {
      try {
        out[id] = await readFile(src);
      } catch (err) {
        throw new StatusError(125, `failed to read secret ${id} from ${src}: ${(err as Error).message}`);
      }
      continue;
    }
    const name = env ?? src ?? id;
    const value = process.env[name];
    if (value !== undefined) out[id] = Buffer.from(value);
    else if (env !== undefined || type === 'env') throw new StatusError(125, `secret ${id}: environment variable ${name} is not set`);
    else {
      try {
        out[id] = await readFile(id);
      } catch {
        throw new StatusError(125, `secret ${id}: no src= given, and neither an environment variable nor a file named ${id} exists`);
      }
    }
  }
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `--cache-from`: an image name, or BuildKit's `type=registry,ref=NAME` spelled for an image here; other cache exporters are refused. */
function cacheFromRef(spec: string): string {
  if (!spec.includes('=')) return spec;
  const kv = new Map(spec.split(',').map((f) => { const eq = f.indexOf('='); return [f.slice(0, eq), f.slice(eq + 1)] as [string, string]; }));
  const type = kv.get('type') ?? 'registry';
  const ref = kv.get('ref');
  if (type !== 'registry' || !ref) throw new StatusError(125, `--cache-from ${spec}: hako's builder takes images as cache sources: --cache-from NAME[:TAG] (or type=registry,ref=NAME)`);
  return ref;
}
