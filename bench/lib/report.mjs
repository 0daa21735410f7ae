// Figures and how they are printed: medians, side-by-side tables, ratios against a target.

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function ms(value) {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a';
}

export function mib(kib) {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : 'n/a';
}

/** Monotonic milliseconds, for timing one step. */
export function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Prints rows of equal-length string arrays as a left-aligned table (first row is the header). */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  for (const r of rows) {
    console.log(r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ').trimEnd());
  }
}

/**
 * "hako/docker 0.42 (target <= 0.50: met)". A ratio is only printed when both sides were measured.
 */
export function ratioLine(label, ours, theirs, target) {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) {
    return `${label}: n/a (one side not measured)`;
  }
  const r = ours / theirs;
  const verdict = target === undefined ? '' : ` (target <= ${target.toFixed(2)}: ${r <= target ? 'met' : 'NOT met'})`;
  return `${label}: ${r.toFixed(2)}${verdict}`;
}

/** Prints a section heading. */
export function heading(text) {
  console.log(`\n== ${text}`);
}

/**
 * Per-engine failures: one engine failing leaves the others' figures standing. The failures are
 * printed after the tables, and make the benchmark exit non-zero.
 */
export class Failures {
  #byEngine = new Map();

  /** Runs fn for `engine`; on error records it and returns undefined. */
  async attempt(engine, what, fn) {
    if (this.#byEngine.has(engine)) return undefined;
    try {
      return await fn();
    } catch (err) {
      this.#byEngine.set(engine, `${what}: ${err.message}`);
      return undefined;
    }
  }

  has(engine) {
    return this.#byEngine.has(engine);
  }

  /** Prints what failed and sets a failing exit code. */
  report() {
    if (this.#byEngine.size === 0) return;
    heading('failures');
    for (const [engine, msg] of this.#byEngine) console.log(`${engine}: ${msg}`);
    process.exitCode = 1;
  }
}
