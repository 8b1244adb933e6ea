// mapLimit: bounded fan-out with results in input order (platform/concurrency.ts).
import { describe, expect, it } from "vitest";
import { mapLimit } from "../../platform/concurrency.ts";

describe("mapLimit", () => {
  it("keeps at most `limit` running, and the results in input order whatever finishes first", async () => {
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const done = mapLimit(["a", "b", "c", "d"], 2, async (name, index) => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return `${index}:${name}`;
    });
    // Finish them last-started first: each release lets the next input start.
    for (let released = 0; released < 4; ) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = release.pop();
      if (next) {
        next();
        released++;
      }
    }
    expect(await done).toEqual(["0:a", "1:b", "2:c", "3:d"]);
    expect(most).toBe(2);
  });

  it("runs nothing for no inputs, and fails with the first failure", async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
    await expect(
      mapLimit([1, 2, 3], 3, async (n) => {
        if (n === 2) throw new Error("two");
        return n;
      }),
    ).rejects.toThrow("two");
  });
});
