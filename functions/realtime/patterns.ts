// The EventBridge event patterns of the real-time rules, built from the registry only (a problem's `realtime`
// triggers), so a new problem's events reach the real-time queue without touching the stack. Pure; stable (sorted,
// deduped) so an unchanged registry gives an unchanged rule. The patterns only narrow what is delivered:
// functions/realtime/events.ts checks every event again (e.g. the exact eventSource/eventName pair, which a pattern
// of two lists cannot express).
import { PROBLEM_SPECS } from "../../problems/index.ts";
import type { ProblemSpec } from "../../problems/types.ts";
import { CLOUDTRAIL_DETAIL_TYPE, eventBridgeSource, SECURITY_HUB_DETAIL_TYPE } from "./events.ts";

/** EventBridge's default quota on one rule's pattern (raisable to 4096; the stack must fit the default). */
export const MAX_EVENT_PATTERN_LENGTH = 2048;

/** Successful CloudTrail calls (no errorCode) of every problem's triggers. */
export function cloudTrailPattern() {
  const triggers = specs().flatMap((spec) => spec.realtime.cloudTrail);
  return {
    source: sorted(triggers.map((trigger) => eventBridgeSource(trigger.eventSource))),
    "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
    detail: {
      eventSource: sorted(triggers.map((trigger) => trigger.eventSource)),
      eventName: sorted(triggers.map((trigger) => trigger.eventName)),
      errorCode: [{ exists: false }],
    },
  };
}

/**
 * Active, failed, still open Security Hub findings of a mapped control (consolidated findings' SecurityControlId,
 * older ones' ProductFields.ControlId) or third-party check (GeneratorId). `findings` is a list: each field matches
 * if any finding has it, so events.ts judges each finding again.
 */
export function securityHubPattern() {
  const mappings = specs().map((spec) => spec.realtime.securityHub);
  const controls = sorted(mappings.flatMap((mapping) => mapping.controls));
  const generatorIds = sorted(mappings.flatMap((mapping) => mapping.generatorIds));
  return {
    source: ["aws.securityhub"],
    "detail-type": [SECURITY_HUB_DETAIL_TYPE],
    detail: {
      findings: {
        RecordState: ["ACTIVE"],
        Compliance: { Status: ["FAILED"] },
        // Not SUPPRESSED or RESOLVED: Security Hub's only other workflow states.
        Workflow: { Status: ["NEW", "NOTIFIED"] },
        $or: [
          { Compliance: { SecurityControlId: controls } },
          { ProductFields: { ControlId: controls } },
          ...(generatorIds.length > 0 ? [{ GeneratorId: generatorIds }] : []),
        ],
      },
    },
  };
}

function specs(): readonly ProblemSpec[] {
  return PROBLEM_SPECS;
}

function sorted(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
