/**
 * GET /events: the engine's events as a stream of JSON lines, with Docker's semantics
 * (api/server/router/system getEvents, daemon/events/filter.go):
 * - `since` replays the events still in the engine's bounded ring from that time on; without it
 *   only new events are sent;
 * - `until` in the past answers the replay and ends; in the future it streams until then;
 * - `filters`: values of one key OR, different keys AND; `container`, `volume`, `network`,
 *   `daemon` match the actor's id or name by prefix; `image` matches id or name, with or without
 *   the tag; `event=health_status` (and exec_create/exec_start) match the `health_status: …`
 *   actions; `label` needs every given label.
 */
import { InvalidArgument } from '../../errdefs/index.js';
import type { Filters } from '../../engine/contract.js';
import type { EngineEvent } from '../../engine/extensions.js';
import type { Call, Handler } from '../call.js';
import { filtersParam } from '../query.js';

const FILTER_KEYS = new Set(['config', 'container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'secret', 'service', 'type', 'volume']);
const TYPES = new Set(['builder', 'config', 'container', 'daemon', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'volume']);
/** Actions that carry a suffix (`health_status: healthy`): a filter without one matches them all. */
const FUZZY_ACTIONS = ['health_status', 'exec_create', 'exec_start'];

/** Unix seconds with optional fractional nanoseconds ("1700000000.000000001"), or RFC 3339; null when absent. */
export function parseEventTime(raw: string | null, name: string): bigint | null {
  if (raw === null || raw === '') return null;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(raw);
  if (m) return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new InvalidArgument(`invalid value for query parameter "${name}": "${raw}" is not a unix timestamp or RFC 3339 time`);
  return BigInt(ms) * 1_000_000n;
}

export function validateEventFilters(filters: Filters): void {
  for (const key of Object.keys(filters)) {
    if (!FILTER_KEYS.has(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  }
  for (const t of filters.type ?? []) {
    if (!TYPES.has(t)) throw new InvalidArgument(`invalid filter 'type=${t}'`);
  }
}

const stripTag = (ref: string): string => {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(0, colon) : ref;
};

/** Whether `e` passes every filter key (Docker's events Filter.Include). */
export function eventMatches(e: EngineEvent, f: Filters): boolean {
  const attrs = e.Actor.Attributes;
  const exact = (key: string, ...sources: Array<string | undefined>): boolean => {
    const values = f[key];
    if (!values?.length) return true;
    return sources.some((s) => s !== undefined && values.includes(s));
  };
  const fuzzy = (key: string, ...sources: Array<string | undefined>): boolean => {
    const values = f[key];
    if (!values?.length) return true;
    return sources.some((s) => s !== undefined && values.some((v) => s === v || s.startsWith(v)));
  };
  const byName = (type: string): boolean => fuzzy(type, e.Type === type ? e.Actor.ID : undefined, e.Type === type ? attrs.name : undefined);

  const actionFilter = f.event ?? [];
  const actionOk = actionFilter.length === 0
    || (actionFilter.some((v) => FUZZY_ACTIONS.includes(v)) ? fuzzy('event', e.Action) : exact('event', e.Action));
  if (!actionOk) return false;
  if (!exact('type', e.Type)) return false;
  if (!exact('scope', e.scope)) return false;
  for (const type of ['container', 'volume', 'network', 'daemon', 'plugin', 'node', 'service', 'secret', 'config']) {
    if (!byName(type)) return false;
  }
  const imageName = e.Type === 'image' ? attrs.name : attrs.image;
  if (!exact('image', e.Actor.ID, imageName, stripTag(e.Actor.ID), imageName === undefined ? undefined : stripTag(imageName))) return false;
  for (const l of f.label ?? []) {
    const eq = l.indexOf('=');
    if (eq < 0 ? !(l in attrs) : attrs[l.slice(0, eq)] !== l.slice(eq + 1)) return false;
  }
  return true;
}

/** The message as the API sends it: API 1.47 still fills the deprecated status/id/from fields. */
export function eventMessage(e: EngineEvent): Record<string, unknown> {
  if (e.Type === 'container') return { status: e.Action, id: e.Actor.ID, from: e.Actor.Attributes.image, ...e };
  if (e.Type === 'image') return { status: e.Action, id: e.Actor.ID, ...e };
  return { ...e };
}

export const eventRoutes = {
  async events(call: Call) {
    const since = parseEventTime(call.query.get('since'), 'since');
    const until = parseEventTime(call.query.get('until'), 'until');
    if (since !== null && until !== null && until < since) {
      throw new InvalidArgument(`\`since\` time (${call.query.get('since')}) cannot be after \`until\` time (${call.query.get('until')})`);
    }
    const filters = filtersParam(call.query);
    validateEventFilters(filters);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const onlyPast = until !== null && until <= nowNs;
    const res = call.res;
    const inRange = (e: EngineEvent): boolean => {
      const t = BigInt(e.timeNano);
      return (since === null || t >= since) && (until === null || t <= until);
    };
    const send = (e: EngineEvent): void => {
      if (eventMatches(e, filters)) res.write(`${JSON.stringify(eventMessage(e))}\n`);
    };

    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders(); // `docker events` waits for the headers before it prints anything

    // recent() and subscribe() in one tick: no event can fall between the replay and the live part.
    const past = since !== null || until !== null ? call.engine.events.recent().filter(inRange) : [];
    if (onlyPast) {
      for (const e of past) send(e);
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const unsubscribe = call.engine.events.subscribe((e) => {
        if (until !== null && BigInt(e.timeNano) > until) return finish();
        send(e);
      });
      const finish = (): void => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        if (!res.writableEnded) res.end();
        resolve();
      };
      for (const e of past) send(e);
      if (until !== null) timer = setTimeout(finish, Number((until - nowNs) / 1_000_000n) + 1);
      res.once('close', finish);
    });
  },
} satisfies Record<string, Handler>;
