/**
 * Docker's JSON progress messages (moby's jsonmessage): what the docker CLI turns into per-layer
 * bars. Download/upload bars are throttled so a fast local pull does not send a message per chunk.
 */
export type ProgressMessage = Record<string, unknown>;
export type ProgressSink = (msg: ProgressMessage) => void;

const BAR_WIDTH = 50;
const THROTTLE_MS = 100;

/** "[=====>      ]  12.3MB/45.6MB", as jsonmessage's JSONProgress.String() draws it. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanBytes(current);
  const pct = Math.min(1, current / total);
  const filled = Math.floor(pct * BAR_WIDTH);
  const bar = '='.repeat(filled) + (filled < BAR_WIDTH ? `>${' '.repeat(BAR_WIDTH - filled - 1)}` : '');
  return `[${bar}] ${pad(humanBytes(current), 8)}/${humanBytes(total)}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** Decimal units like Docker's HumanSize: "1.23MB". */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return u === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 3 : v < 100 ? 2 : 1).replace(/\.?0+$/, '')}${units[u]}`;
}

/** Progress of one layer: status lines and throttled byte counts. */
export class LayerProgress {
  readonly id: string;
  readonly #sink: ProgressSink;
  #last = 0;
  constructor(sink: ProgressSink, id: string) {
    this.#sink = sink;
    this.id = id;
  }
  status(status: string): void {
    this.#sink({ status, progressDetail: {}, id: this.id });
  }
  bytes(status: string, current: number, total: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < THROTTLE_MS && current < total) return;
    this.#last = now;
    this.#sink({ status, progressDetail: { current, total }, progress: progressBar(current, total), id: this.id });
  }
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
