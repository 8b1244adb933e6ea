// Canonical JSON: object keys sorted at every depth, so equal meaning gives equal text (ids, matching).
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    for (const key of sortedKeys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== undefined) sorted[key] = sortKeys(child);
    }
    return sorted;
  }
  return value;
}

/** Recent key lists and their sorted order: ids and statement keys see a handful of shapes, sorted once each. */
const orders: { keys: string[]; sorted: string[] }[] = [];
const ORDERS_KEPT = 16;
let nextOrder = 0;

/** `Object.keys(value).sort()`: the order depends on the key list alone, so a list seen before reuses its order. */
function sortedKeys(value: object): readonly string[] {
  const keys = Object.keys(value);
  for (let index = 0; index < orders.length; index++) {
    const order = orders[index]!;
    if (sameKeys(order.keys, keys)) return order.sorted;
  }
  const sorted = keys.slice().sort();
  if (orders.length < ORDERS_KEPT) orders.push({ keys, sorted });
  else orders[nextOrder++ % ORDERS_KEPT] = { keys, sorted };
  return sorted;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
