/**
 * The state of `hako build`'s TTY display, BuildKit-like, and its text: a header
 * `[+] Building 12.3s (8/10)`, one row per step (`=> CACHED [build 2/4] RUN make   0.0s`,
 * `=> ERROR …`), under each running step the last lines of its output (`=> => # …`), and at the
 * end the final state with the full output of a failing step and the Dockerfile lines around it.
 * Pure: the clock is injected, nothing is written here (tty.ts draws the frames).
 */
import type { StepEvent } from '../../archive/index.js';

export interface DisplayOptions {
  /** Milliseconds; default Date.now. */
  now?: () => number;
  /** Columns of the terminal; default 80. */
  width?: number;
  /** Output lines shown under a running step; default 6. */
  tailLines?: number;
  /** The Dockerfile's text, to show the lines around a failing step. */
  dockerfile?: string;
}

type StepState = 'running' | 'done' | 'cached' | 'error';

interface Step {
  step: number;
  label: string;
  name: string;
  line: number;
  endLine: number;
  file: string;
  state: StepState;
  started: number;
  ended: number | null;
  /** Every complete output line (a failing step's is shown in full). */
  lines: string[];
  partial: string;
  error: string | null;
}

const PROTOCOL = /^(Step \d+\/\d+ : |Removing intermediate container |Successfully (built|tagged) )| ---> (Running in [0-9a-f]{12}|Using cache|Removed intermediate container [0-9a-f]{12}|[0-9a-f]{12}|scratch)$/;
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

export class BuildDisplay {
  readonly #now: () => number;
  readonly #width: number;
  readonly #tail: number;
  readonly #dockerfile: string[] | null;
  readonly #started: number;
  readonly #steps = new Map<number, Step>();
  #total = 0;
  #finished: number | null = null;
  #export: { id: string; tags: string[]; at: number } | null = null;
  #failure: string | null = null;

  constructor(opts: DisplayOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#width = Math.max(40, opts.width ?? 80);
    this.#tail = opts.tailLines ?? 6;
    this.#dockerfile = opts.dockerfile !== undefined ? opts.dockerfile.replace(/\r?\n$/, '').split(/\r?\n/) : null;
    this.#started = this.#now();
  }

  /** One `hako.build.step` event from hakod. */
  event(ev: StepEvent): void {
    const at = this.#now();
    if (ev.event === 'start') {
      this.#total = Math.max(this.#total, ev.total ?? 0);
      const single = ev.stageSteps !== undefined && ev.stageSteps === ev.total;
      const where = `${single ? '' : `${ev.stage ?? 'stage'} `}${ev.stageStep ?? ev.step}/${ev.stageSteps ?? ev.total ?? '?'}`;
      this.#steps.set(ev.step, {
        step: ev.step, label: `[${where}] ${oneLine(ev.name ?? '')}`, name: ev.name ?? '', line: ev.line ?? 0, endLine: Math.max(ev.endLine ?? 0, ev.line ?? 0), file: ev.file ?? 'Dockerfile',
        state: 'running', started: at, ended: null, lines: [], partial: '', error: null,
      });
      return;
    }
    const s = this.#steps.get(ev.step);
    if (!s) return;
    if (ev.event === 'log') {
      this.#log(s, ev.text ?? '');
      return;
    }
    this.#flush(s);
    s.state = ev.event;
    s.ended = at;
    if (ev.event === 'error') s.error = ev.error ?? 'failed';
  }

  /** The build ended: with the image (and its tags) or with the daemon's error. */
  finish(result: { id: string; tags: string[] } | { error: string }): void {
    const at = this.#now();
    for (const s of this.#steps.values()) {
      this.#flush(s);
      if (s.state !== 'running') continue;
      s.ended = at;
      // A step still running when the build failed is the failing one (or was canceled by it).
      s.state = 'error';
      if ('error' in result && !this.#failedStep()) s.error = result.error;
    }
    if ('error' in result) this.#failure = result.error;
    else this.#export = { ...result, at };
    this.#finished = at;
  }

  /** The step that failed, if one did. */
  #failedStep(): Step | null {
    for (const s of this.#steps.values()) if (s.error !== null) return s;
    return null;
  }

  /** The error message for the user: it names the Dockerfile line when the daemon's did not. */
  errorMessage(): string | null {
    if (this.#failure === null) return null;
    const s = this.#failedStep();
    if (s && s.line > 0 && !/^\S+:\d+: /.test(this.#failure)) return `${s.file}:${s.line}: ${this.#failure}`;
    return this.#failure;
  }

  /** The live frame: header, steps, and the tail of each running step's output. */
  frame(maxLines = Infinity): string[] {
    const rows: string[] = [this.#header()];
    for (const s of this.#sorted()) {
      rows.push(this.#row(s));
      if (s.state === 'running') {
        const tail = [...s.lines, ...(s.partial !== '' ? [cleanLine(s.partial)] : [])].slice(-this.#tail);
        for (const l of tail) rows.push(this.#fit(` => => # ${l}`));
      }
    }
    if (rows.length > maxLines) return [rows[0] as string, ...rows.slice(rows.length - maxLines + 1)];
    return rows;
  }

  /** The final state, printed once: every step, the export, a failing step's full output and where it is. */
  final(): string[] {
    const rows: string[] = [`${this.#header()}${this.#failure === null ? ' FINISHED' : ''}`];
    for (const s of this.#sorted()) rows.push(this.#row(s));
    if (this.#export) {
      rows.push(this.#timed(' => exporting to image', 0));
      rows.push(this.#fit(` => => writing image ${this.#export.id}`));
      for (const t of this.#export.tags) rows.push(this.#fit(` => => naming to ${t}`));
    }
    const failed = this.#failedStep();
    if (failed) {
      rows.push('------', ` > ${failed.label}:`);
      for (const l of failed.lines) rows.push(l);
      rows.push('------');
      rows.push(...this.#snippet(failed));
    }
    return rows;
  }

  #snippet(s: Step): string[] {
    if (s.line <= 0 || this.#dockerfile === null) return [];
    const first = Math.max(1, s.line - 2);
    const last = Math.min(this.#dockerfile.length, s.endLine + 2);
    const out = [`${s.file}:${s.line}`, '--------------------'];
    for (let n = first; n <= last; n++) {
      const text = this.#dockerfile[n - 1] ?? '';
      const mark = n >= s.line && n <= s.endLine ? '>>>' : '   ';
      out.push(this.#fit(` ${mark} ${String(n).padStart(3)} | ${text}`));
    }
    out.push('--------------------');
    return out;
  }

  #sorted(): Step[] {
    return [...this.#steps.values()].sort((a, b) => a.step - b.step);
  }

  #header(): string {
    const end = this.#finished ?? this.#now();
    const done = [...this.#steps.values()].filter((s) => s.state !== 'running').length;
    return `[+] Building ${secs(end - this.#started)} (${done}/${Math.max(this.#total, this.#steps.size)})`;
  }

  #row(s: Step): string {
    const tag = s.state === 'cached' ? 'CACHED ' : s.state === 'error' ? 'ERROR ' : '';
    return this.#timed(` => ${tag}${s.label}`, (s.ended ?? this.#now()) - s.started);
  }

  /** `left` and the duration right-aligned to the width (less one column: no terminal auto-wrap), `left` cut to fit. */
  #timed(left: string, ms: number): string {
    const right = secs(ms);
    const room = this.#width - 1 - right.length - 2;
    const l = columns(left) > room ? `${cut(left, room - 3)}...` : left;
    return `${l}${' '.repeat(Math.max(0, room - columns(l)))}  ${right}`;
  }

  /** A line that stays on one terminal row (width less one column). */
  #fit(text: string): string {
    return columns(text) > this.#width - 1 ? `${cut(text, this.#width - 4)}...` : text;
  }

  #log(s: Step, text: string): void {
    const parts = (s.partial + text).split('\n');
    s.partial = parts.pop() ?? '';
    for (const p of parts) this.#line(s, p);
  }

  #flush(s: Step): void {
    if (s.partial !== '') this.#line(s, s.partial);
    s.partial = '';
  }

  #line(s: Step, raw: string): void {
    if (PROTOCOL.test(raw)) return;
    const miss = /^ ---> Cache miss: (.*)$/.exec(raw);
    s.lines.push(miss ? `cache miss: ${miss[1]}` : cleanLine(raw));
  }
}

/** What a terminal would show of one line: the text after the last \r, without escape sequences or tabs. */
function cleanLine(raw: string): string {
  const afterCr = raw.slice(raw.lastIndexOf('\r') + 1);
  return afterCr.replace(ANSI, '').replace(/\t/g, '    ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/** East Asian wide and fullwidth characters (CJK, kana, hangul, fullwidth forms, most emoji) take two columns. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

/** Terminal columns `text` takes. */
export function columns(text: string): number {
  let n = 0;
  for (const ch of text) n += WIDE.test(ch) ? 2 : 1;
  return n;
}

/** The longest prefix of `text` that fits in `cols` columns. */
function cut(text: string, cols: number): string {
  let n = 0;
  let out = '';
  for (const ch of text) {
    const w = WIDE.test(ch) ? 2 : 1;
    if (n + w > cols) break;
    n += w;
    out += ch;
  }
  return out;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function secs(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
