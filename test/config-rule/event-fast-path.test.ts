// parseRuleEvent reads a plainly valid change notification without valibot, and checks its nesting with a bounded
// recursion instead of jsonDepth's stack. The schemas stay the definition: on every input here, valid or not,
// it must give exactly what the schemas (and jsonDepth) alone give — the same fields, in the same order, with the
// same undefined ones, or the same error message.
import { describe, expect, it } from "vitest";
import { bucketItem, changeEventFor, random, securityGroupItem } from "../../bench/generate.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../../contract/json.ts";
import {
  InvokingEventSchema,
  parseRuleEvent,
  parseRuleEventBySchema,
  RuleEventSchema,
} from "../../functions/config-rule/event.ts";
import { eventCases } from "../bad-input/config-cases.ts";
import { seededRandom } from "../bad-input/generate.ts";
import { configEvent } from "../fixtures/events.ts";

type Outcome = { event: unknown; keys: string[][] } | { error: string };

function outcome(parse: (event: unknown) => unknown, event: unknown): Outcome {
  try {
    const parsed = parse(event) as Record<string, unknown>;
    const invoking = parsed.invoking as Record<string, unknown>;
    return {
      event: parsed,
      keys: [Object.keys(parsed), Object.keys(invoking), Object.keys(parsed.parameters as object)],
    };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function expectAsSchema(event: unknown): Outcome {
  const fast = outcome(parseRuleEvent, event);
  // toStrictEqual: a field present as undefined is not a field left out.
  expect(fast).toStrictEqual(outcome(parseRuleEventBySchema, event));
  return fast;
}

const valid = () => configEvent("ConfigurationItemChangeNotification", "sg-ssh-open");
const withInvoking = (mutate: (invoking: Record<string, unknown>) => void, base = valid()) => {
  const invoking = JSON.parse(base.invokingEvent as string) as Record<string, unknown>;
  mutate(invoking);
  return { ...base, invokingEvent: JSON.stringify(invoking) };
};

const DELETE = Symbol("delete");
const VALUES: unknown[] = [DELETE, undefined, null, "", "x", "{}", 0, 1, true, false, {}, [], ["x"], { a: 1 }];
const set = (target: Record<string, unknown>, key: string, value: unknown) => {
  if (value === DELETE) delete target[key];
  else target[key] = value;
};

/** `levels` nested arrays or objects around a string. */
function nested(levels: number, kind: "array" | "object" | "mixed"): unknown {
  let value: unknown = "DEEP";
  for (let level = 0; level < levels; level++) {
    const array = kind === "array" || (kind === "mixed" && level % 2 === 0);
    value = array ? [1, value] : { a: 1, b: value };
  }
  return value;
}

describe("parseRuleEvent's fast path agrees with the schemas", () => {
  it("on every fixture event", () => {
    for (const [type, variant] of [
      ["ConfigurationItemChangeNotification", "sg-ssh-open"],
      ["ConfigurationItemChangeNotification", "sg-deleted"],
      ["ConfigurationItemChangeNotification", "sg-left-scope"],
      ["OversizedConfigurationItemChangeNotification", "sg"],
      ["OversizedConfigurationItemChangeNotification", "sg-deleted"],
      ["ScheduledNotification", "sg"],
      ["ScheduledNotification", "s3"],
    ] as const) {
      expect(expectAsSchema(configEvent(type, variant))).toHaveProperty("event");
    }
  });

  it("on the bench's change notifications", () => {
    const rand = random(3);
    for (let index = 0; index < 500; index++) {
      const item = index % 2 === 0 ? securityGroupItem(index, rand) : bucketItem(index, rand);
      expect(expectAsSchema(changeEventFor(item, "remedy-sg-open-ingress"))).toHaveProperty("event");
    }
  });

  it("on every malformed event of the bad-input suite", () => {
    const cases = eventCases(seededRandom(0x5eed_e7e7));
    expect(cases.length).toBeGreaterThan(300);
    let rejected = 0;
    for (const { event } of cases) {
      if ("error" in expectAsSchema(event)) rejected++;
    }
    expect(rejected).toBeGreaterThan(200);
  });

  it("on every type of value in every field of the event, and in a field it does not know", () => {
    for (const key of [...Object.keys(RuleEventSchema.entries), "somethingElse"]) {
      for (const value of VALUES) {
        const event = valid();
        set(event, key, value);
        expectAsSchema(event);
      }
    }
  });

  it("on every type of value in every field of a change notification's invokingEvent", () => {
    const [change] = InvokingEventSchema.options;
    expect(change.entries.messageType.literal).toBe("ConfigurationItemChangeNotification");
    for (const key of [...Object.keys(change.entries), "configurationItemDiff", "somethingElse"]) {
      for (const value of [...VALUES, "ConfigurationItemChangeNotification", "ScheduledNotification"]) {
        // (undefined does not survive JSON.stringify: in the text it is a field left out.)
        expectAsSchema(withInvoking((invoking) => set(invoking, key, value)));
      }
    }
  });

  it("on an event that is not a plain object", () => {
    for (const event of [undefined, null, 0, "", "event", [], [valid()], Object.create(valid())]) {
      expectAsSchema(event);
    }
    // An event whose fields are inherited: read as the schema reads them (`in`, then the value).
    expect(expectAsSchema(Object.assign(Object.create(valid()), { version: "1.0" }))).toHaveProperty("event");
  });

  it("on documents nested right around the limit, in the item and in ruleParameters", () => {
    for (const kind of ["array", "object", "mixed"] as const) {
      for (let levels = 58; levels <= 66; levels++) {
        const deepItem = withInvoking((invoking) => {
          (invoking.configurationItem as Record<string, unknown>).deep = nested(levels, kind);
        });
        const deepParameters = { ...valid(), ruleParameters: JSON.stringify({ deep: nested(levels, kind) }) };
        const deepInvoking = { ...valid(), invokingEvent: JSON.stringify(nested(levels, kind)) };
        const outcomes = [deepItem, deepParameters, deepInvoking].map(expectAsSchema);
        // Under the limit the item and the parameters are fine; over it, each names the field that is too deep.
        const itemDepth = levels + 2;
        expect("error" in outcomes[0]!).toBe(itemDepth > 64);
        expect("error" in outcomes[1]!).toBe(levels + 1 > 64);
      }
    }
    const abyss = { ...valid(), invokingEvent: `${"[".repeat(50_000)}${"]".repeat(50_000)}` };
    expect(expectAsSchema(abyss)).toEqual({ error: "InvalidEventError: invokingEvent nests deeper than 64 levels" });
  });

  it("on deep documents when Object.prototype has an enumerable property (for-in would visit it)", () => {
    const proto = Object.prototype as Record<string, unknown>;
    try {
      // Inherited and deep: the walk must not count it (jsonDepth reads own values only), nor skip own ones.
      proto.polluted = nested(80, "object");
      // (valibot itself breaks on such a prototype: held to jsonDepth alone here.)
      for (const kind of ["array", "object", "mixed"] as const) {
        for (const levels of [60, 61, 62, 63, 64, 65]) {
          const event = withInvoking((invoking) => {
            (invoking.configurationItem as Record<string, unknown>).deep = nested(levels, kind);
          });
          const tooDeep = jsonDepth(JSON.parse(event.invokingEvent as string)) > MAX_JSON_DEPTH;
          expect(tooDeep).toBe(levels + 2 > 64);
          const fast = outcome(parseRuleEvent, event);
          expect(fast).toStrictEqual(
            tooDeep ? { error: "InvalidEventError: invokingEvent nests deeper than 64 levels" } : fast,
          );
          expect("event" in fast).toBe(!tooDeep);
        }
      }
    } finally {
      delete proto.polluted;
    }
  });
});
