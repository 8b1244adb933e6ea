// Seeded, deterministic building blocks for the bad-input suite: a PRNG, deep clones, path edits and the wrong-type
// values every field is tried with. Nothing here is random without the seed, so every failure can be replayed.

/** mulberry32: small, fast, good enough to pick cut points and orders. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    shuffle<T>(items: readonly T[]): T[] {
      const copy = [...items];
      for (let index = copy.length - 1; index > 0; index--) {
        const other = Math.floor(next() * (index + 1));
        [copy[index], copy[other]] = [copy[other]!, copy[index]!];
      }
      return copy;
    },
  };
}
export type Random = ReturnType<typeof seededRandom>;

export const clone = <T>(value: T): T => structuredClone(value);

type Json = Record<string, unknown>;

/** Sets (or, with DELETE, removes) the value at a path of keys / indexes. */
export const DELETE = Symbol("delete");
export function setPath(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Json;
  for (const key of path.slice(0, -1)) node = node[key as string] as Json;
  const last = path[path.length - 1] as string;
  if (value === DELETE) delete node[last];
  else node[last] = value;
}

export function describe(value: unknown): string {
  if (value === DELETE) return "deleted";
  if (typeof value === "string") return JSON.stringify(value.length > 24 ? `${value.slice(0, 21)}...` : value);
  if (value === undefined) return "undefined";
  const json = JSON.stringify(value);
  return json.length > 24 ? `${json.slice(0, 21)}...` : json;
}

/** Values of the wrong JSON type for a field that must be a (non-empty) string. */
export const NOT_A_STRING: readonly unknown[] = [DELETE, null, 0, 42.5, true, [], ["x"], {}, { a: 1 }];
/** ... and for one that must be an object. */
export const NOT_AN_OBJECT: readonly unknown[] = [DELETE, null, 0, 42, true, "not json", "", [], [{}]];

/** A JSON text cut short at `count` seeded points (never at its full length, never at 0). */
export function truncations(text: string, random: Random, count: number): string[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, text.length - 1)) cuts.add(random.int(1, text.length - 1));
  return [...cuts].sort((a, b) => a - b).map((cut) => text.slice(0, cut));
}

export const HUGE = (size: number, seed: number) => {
  const random = seededRandom(seed);
  let text = "";
  while (text.length < size) text += random.next().toString(36).slice(2);
  return text.slice(0, size);
};
