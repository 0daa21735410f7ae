/**
 * The build checks BuildKit runs on a Dockerfile (docs.docker.com/reference/build-checks/), as
 * far as hako knows them: each warning names its rule, and the `# check=` parser directive
 * (`skip=Rule1,Rule2` or `skip=all`, `error=true`, separated by `;`) turns rules off or makes any
 * remaining warning fail the build, as BuildKit does ("lint violation found for rules: ...").
 * Pure: the parser reports through a Checks, which formats and filters.
 */
export type CheckRule =
  | 'JSONArgsRecommended'
  | 'LegacyKeyValueFormat'
  | 'NoEmptyContinuation'
  | 'UndefinedArgInFrom'
  | 'MaintainerDeprecated';

/** The platform args BuildKit declares on its own: a FROM may use them without an ARG. */
export const AUTOMATIC_PLATFORM_ARGS = new Set([
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
]);

export class Checks {
  readonly warnings: string[] = [];
  readonly #file: string;
  readonly #skip: Set<string>;
  readonly #skipAll: boolean;
  readonly #error: boolean;
  readonly #violated = new Set<CheckRule>();

  /** `directive`: the value of `# check=`, if any; a malformed one is an error naming it. */
  constructor(file: string, directive: string | undefined, fail: (msg: string) => never) {
    this.#file = file;
    const skip = new Set<string>();
    let error = false;
    for (const part of (directive ?? '').split(';').map((p) => p.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq).trim();
      const value = eq < 0 ? '' : part.slice(eq + 1).trim();
      if (key === 'skip') for (const rule of value.split(',').map((r) => r.trim()).filter(Boolean)) skip.add(rule);
      else if (key === 'error') {
        if (!/^(true|false)$/i.test(value)) fail(`check directive: error must be true or false, not "${value}"`);
        error = value.toLowerCase() === 'true';
      } else fail(`check directive: unknown option "${key}" (use skip=<rules>|all and error=true|false)`);
    }
    this.#skip = skip;
    this.#skipAll = skip.has('all');
    this.#error = error;
  }

  warn(rule: CheckRule, line: number, message: string): void {
    if (this.#skipAll || this.#skip.has(rule)) return;
    this.warnings.push(`${this.#file}:${line}: ${rule}: ${message}`);
    this.#violated.add(rule);
  }

  /** With `error=true`: the rules that warned, which fail the build; null when none or not asked. */
  violations(): string | null {
    if (!this.#error || this.#violated.size === 0) return null;
    return `lint violation found for rules: ${[...this.#violated].join(', ')}`;
  }
}

/** The names of the variables `text` refers to (`$V`, `${V}`, `${V:-x}` ...), escapes skipped. */
export function referencedVars(text: string, escape: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === escape) { i++; continue; }
    if (text[i] !== '$') continue;
    const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
    if (m) names.push((m[1] ?? m[2]) as string);
  }
  return names;
}
