/**
 * The compose-spec merge tags (spec.md "Merge and override"): `!reset` removes what the files
 * before said for that attribute, `!override` replaces it instead of merging. The YAML parser
 * turns them into these markers; merge.ts acts on them, `stripMarkers` leaves plain values.
 */
import { YAMLMap, YAMLSeq, type parseDocument } from 'yaml';

export class Reset {}

export class Override {
  constructor(readonly value: unknown) {}
}

class OverrideMap extends YAMLMap {
  override toJSON(key?: unknown, ctx?: Parameters<YAMLMap['toJSON']>[1]): unknown {
    return new Override(super.toJSON(key, ctx));
  }
}

class OverrideSeq extends YAMLSeq {
  // The marker stands where the library expects the array: only loader code reads it.
  override toJSON(key?: unknown, ctx?: Parameters<YAMLSeq['toJSON']>[1]): unknown[] {
    return new Override(super.toJSON(key, ctx)) as unknown as unknown[];
  }
}

type CustomTags = NonNullable<NonNullable<Parameters<typeof parseDocument>[1]>['customTags']>;

export const mergeTags: CustomTags = [
  { tag: '!reset', resolve: () => new Reset() },
  { tag: '!reset', collection: 'map', nodeClass: YAMLMap, resolve: () => new Reset() },
  { tag: '!reset', collection: 'seq', nodeClass: YAMLSeq, resolve: () => new Reset() },
  { tag: '!override', resolve: (s: string) => s },
  { tag: '!override', collection: 'map', nodeClass: OverrideMap, resolve: (m: unknown) => m as YAMLMap },
  { tag: '!override', collection: 'seq', nodeClass: OverrideSeq, resolve: (m: unknown) => m as YAMLSeq },
];

/** The value without markers: `!reset` keys (and items) removed, `!override` unwrapped. */
export function stripMarkers(v: unknown): unknown {
  if (v instanceof Override) return stripMarkers(v.value);
  if (Array.isArray(v)) return v.filter((e) => !(e instanceof Reset)).map(stripMarkers);
  if (v !== null && typeof v === 'object' && !(v instanceof Reset)) {
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) if (!(e instanceof Reset)) out[k] = stripMarkers(e);
    return out;
  }
  return v instanceof Reset ? null : v;
}
