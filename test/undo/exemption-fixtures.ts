// Undo exemption records as `remedy undo` writes them (contract/undo-exemption.ts), for the contract, store, runner,
// CLI and notifier tests.
import type { MatchedEntry } from "../../contract/instruction.ts";
import { mergeUndoExemption, type UndoExemptionRecord } from "../../contract/undo-exemption.ts";

export const EXEMPT_AT = new Date("2026-11-20T12:00:00.000Z");
export const EXEMPT_UNTIL = new Date("2026-11-21T12:00:00.000Z");
export const UNDO_ACTION = "act-20261120T120000Z-0000aaaa";
export const FIX_ACTION = "act-20261120T102819Z-0000beef";
export const OPERATOR = "arn:aws:sts::123456789012:assumed-role/Operator/alice";
export const GROUP = {
  accountId: "123456789012",
  region: "us-east-1",
  type: "AWS::EC2::SecurityGroup",
  id: "sg-0123456789abcdef0",
};

export const SSH_ENTRY: MatchedEntry = {
  kind: "sg-rule",
  rule: {
    direction: "ingress",
    ipProtocol: "tcp",
    fromPort: 22,
    toPort: 22,
    cidrIpv4: "0.0.0.0/0",
    description: "ssh from anywhere (temporary)",
    securityGroupRuleId: "sgr-0ssh4",
  },
};
export const RDP_ENTRY: MatchedEntry = {
  kind: "sg-rule",
  rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 3389, toPort: 3389, cidrIpv4: "0.0.0.0/0" },
};

/** The record one undo writes on the group for `entries` (sg-open-ingress), from EXEMPT_AT until EXEMPT_UNTIL. */
export function exemptionRecord(
  entries: readonly MatchedEntry[] = [SSH_ENTRY],
  overrides: { resource?: typeof GROUP; at?: Date; until?: Date; undoActionId?: string; by?: string } = {},
): UndoExemptionRecord {
  const at = overrides.at ?? EXEMPT_AT;
  return mergeUndoExemption(
    undefined,
    {
      resource: overrides.resource ?? GROUP,
      entries: entries.map((entry) => ({ problem: "sg-open-ingress", entry })),
      undoActionId: overrides.undoActionId ?? UNDO_ACTION,
      undoes: FIX_ACTION,
      by: overrides.by ?? OPERATOR,
      at,
      until: overrides.until ?? EXEMPT_UNTIL,
    },
    at,
  );
}
