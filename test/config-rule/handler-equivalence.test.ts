// runConfigRule's fast paths (no closures per event, one await per verdict, lazily sized instructions, memoised key
// orders, ...) must leave everything it does as it was: the transcript of every result, call, log line and metric
// over the bench's items, every fixture and every bad-input case is the one the handler gave before them.
import { describe, expect, it } from "vitest";
import { handlerTranscript, transcriptEvents } from "./handler-transcript.ts";

/** handlerTranscript(transcriptEvents()) of the handler before its fast paths. */
const PINNED = "8897d4c1062e6ebc8a2fe6af9a4c4d21c2dd8b88e7e546f50216a0dff8c80d88";

describe("runConfigRule does exactly what it did before its fast paths", () => {
  it("on the bench's items, every fixture and every bad-input case", async () => {
    const events = transcriptEvents();
    expect(events.length).toBeGreaterThan(1_500);
    const { text, digest } = await handlerTranscript(events);
    // Enough of each kind to mean something.
    expect(text.match(/SendMessageBatchCommand/g)?.length).toBeGreaterThan(100);
    expect(text.match(/"outcome":"rejected"/g)?.length).toBeGreaterThan(1_000);
    expect(text.match(/"outcome":"evaluated"/g)?.length).toBeGreaterThan(500);
    expect(digest).toBe(PINNED);
  });

  it("and the transcript notices a change", async () => {
    const events = transcriptEvents(40);
    const { digest } = await handlerTranscript(events);
    const { digest: other } = await handlerTranscript([...events.slice(0, 39), events[0]]);
    expect(other).not.toBe(digest);
  });
});
