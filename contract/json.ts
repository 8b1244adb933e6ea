// Bounded JSON: every contract (instruction, dispatch payload, report, ledger record) is parsed through here.
// JSON.parse itself copes with any nesting, but everything after it (schemas, canonical JSON, JSON.stringify) is
// recursive: a small body nested tens of thousands of levels deep would throw RangeError there, far from the
// parse, and take the batch around it down. Depth is measured without recursion and refused up front.

/** Deeper than any real instruction, report, record or bucket policy (policies nest about 5 levels). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a parsed JSON value, counted without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Parsed JSON (or the value as given) that nests no deeper than MAX_JSON_DEPTH; throws a plain Error saying why. */
export function boundedJson(input: unknown, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new Error(`${what} is not JSON: ${(error as Error).message}`);
    }
  }
  if (jsonDepth(value, maxDepth) > maxDepth) throw new Error(`${what} nests deeper than ${maxDepth} levels`);
  return value;
}
