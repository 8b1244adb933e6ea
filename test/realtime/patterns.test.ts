// The real-time rules' EventBridge patterns (functions/realtime/patterns.ts): built from the registry only, naming
// every trigger, stable, within EventBridge's size quota, and (matched here with EventBridge's documented semantics)
// letting through exactly the recorded events that events.ts reads as sightings.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readRealtimeEvent } from "../../functions/realtime/events.ts";
import { cloudTrailPattern, MAX_EVENT_PATTERN_LENGTH, securityHubPattern } from "../../functions/realtime/patterns.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { fixture } from "../fixtures/load.ts";

type Pattern = { [key: string]: unknown };

/**
 * EventBridge's matching, as its user guide describes it ("Event patterns", "Comparison operators"): every field of
 * the pattern must match; a list of values matches any of them; a field in a list of objects (detail.findings)
 * matches if any element's does; `exists: false` matches when the field is absent; `$or` matches if any of its
 * patterns does.
 */
function matches(pattern: Pattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === "$or") return (rule as Pattern[]).some((alternative) => matches(alternative, event));
    const values = valuesAt(event, key);
    if (Array.isArray(rule)) return rule.some((filter) => filterMatches(filter, values));
    return values.some((value) => matches(rule as Pattern, value));
  });
}

function valuesAt(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((element) => valuesAt(element, key));
  if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return [];
  const value = (node as Record<string, unknown>)[key];
  return Array.isArray(value) ? value : [value];
}

function filterMatches(filter: unknown, values: unknown[]): boolean {
  if (typeof filter === "object" && filter !== null && "exists" in filter) {
    return (filter as { exists: boolean }).exists === values.length > 0;
  }
  return values.some((value) => value === filter);
}

const fixtures = (dir: string) =>
  readdirSync(fileURLToPath(new URL(`../fixtures/realtime/${dir}/`, import.meta.url)))
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ file: `${dir}/${file}`, event: fixture(`realtime/${dir}/${file}`) }));

describe("the CloudTrail pattern", () => {
  const pattern = cloudTrailPattern();

  it("names every trigger of every problem, and only successful calls", () => {
    const triggers = PROBLEM_SPECS.flatMap((spec) => spec.realtime.cloudTrail);
    expect(triggers.length).toBeGreaterThan(0);
    for (const trigger of triggers) {
      expect(pattern.detail.eventSource).toContain(trigger.eventSource);
      expect(pattern.detail.eventName).toContain(trigger.eventName);
      expect(pattern.source).toContain(`aws.${trigger.eventSource.split(".")[0]}`);
    }
    expect(pattern["detail-type"]).toEqual(["AWS API Call via CloudTrail"]);
    expect(pattern.detail.errorCode).toEqual([{ exists: false }]);
  });

  it("is today's registry: EC2, RDS and S3, the fifteen calls", () => {
    expect(pattern.source).toEqual(["aws.ec2", "aws.rds", "aws.s3"]);
    expect(pattern.detail.eventSource).toEqual(["ec2.amazonaws.com", "rds.amazonaws.com", "s3.amazonaws.com"]);
    expect(pattern.detail.eventName).toEqual([
      "AuthorizeSecurityGroupEgress",
      "AuthorizeSecurityGroupIngress",
      "CreateBucket",
      "DeleteAccountPublicAccessBlock",
      "DeleteBucketOwnershipControls",
      "DeleteBucketPublicAccessBlock",
      "ModifyDBClusterSnapshotAttribute",
      "ModifyDBSnapshotAttribute",
      "ModifySecurityGroupRules",
      "ModifySnapshotAttribute",
      "PutAccountPublicAccessBlock",
      "PutBucketAcl",
      "PutBucketOwnershipControls",
      "PutBucketPolicy",
      "PutBucketPublicAccessBlock",
    ]);
  });

  it.each(fixtures("cloudtrail"))("$file: delivered exactly when it reads as sightings", ({ file, event }) => {
    const read = readRealtimeEvent(JSON.stringify(event));
    expect(matches(pattern, event), file).toBe("sightings" in read);
  });

  it("lets no failed call through, and no unrelated call", () => {
    expect(matches(pattern, fixture("realtime/cloudtrail/authorize-sg-ingress-failed.json"))).toBe(false);
    expect(matches(pattern, fixture("realtime/cloudtrail/revoke-sg-ingress.json"))).toBe(false);
    expect(matches(pattern, fixture("realtime/cloudtrail/authorize-sg-ingress.json"))).toBe(true);
  });
});

describe("the Security Hub pattern", () => {
  const pattern = securityHubPattern();
  const [byControl, byStandardControl, byGenerator] = pattern.detail.findings.$or as [
    { Compliance: { SecurityControlId: string[] } },
    { ProductFields: { ControlId: string[] } },
    { GeneratorId: string[] },
  ];

  it("names every mapped control and generator id, for active, failed, open findings", () => {
    for (const spec of PROBLEM_SPECS) {
      for (const control of spec.realtime.securityHub.controls) {
        expect(byControl.Compliance.SecurityControlId).toContain(control);
        expect(byStandardControl.ProductFields.ControlId).toContain(control);
      }
      for (const generatorId of spec.realtime.securityHub.generatorIds)
        expect(byGenerator.GeneratorId).toContain(generatorId);
    }
    expect(pattern.source).toEqual(["aws.securityhub"]);
    expect(pattern["detail-type"]).toEqual(["Security Hub Findings - Imported"]);
    expect(pattern.detail.findings.RecordState).toEqual(["ACTIVE"]);
    expect(pattern.detail.findings.Compliance).toEqual({ Status: ["FAILED"] });
    expect(pattern.detail.findings.Workflow).toEqual({ Status: ["NEW", "NOTIFIED"] });
  });

  it.each(fixtures("securityhub"))("$file: delivered exactly when it reads as sightings", ({ file, event }) => {
    const read = readRealtimeEvent(JSON.stringify(event));
    expect(matches(pattern, event), file).toBe("sightings" in read);
  });

  it("lets through failed findings of mapped controls and checks, and none passed, archived or suppressed", () => {
    const delivered = fixtures("securityhub")
      .filter(({ event }) => matches(pattern, event))
      .map(({ file }) => file);
    expect(delivered).toEqual([
      "securityhub/ec2-18-failed.json",
      "securityhub/ec2-19-failed.json",
      "securityhub/ec2-2-failed.json",
      "securityhub/neptune-3-failed.json",
      "securityhub/prowler-ebs-public-snapshot-failed.json",
      "securityhub/prowler-rds-snapshot-public-failed.json",
      "securityhub/prowler-s3-account-failed.json",
      "securityhub/prowler-sg-all-ports-failed.json",
      "securityhub/rds-1-failed.json",
      "securityhub/rds-1-standard-failed.json",
      "securityhub/s3-1-failed.json",
      "securityhub/s3-2-failed.json",
      "securityhub/s3-3-failed.json",
      "securityhub/s3-8-failed.json",
      "securityhub/s3-8-standard-failed.json",
    ]);
  });
});

describe("both patterns", () => {
  it.each([
    ["cloudTrailPattern", cloudTrailPattern],
    ["securityHubPattern", securityHubPattern],
  ])("%s fits EventBridge's default quota", (_, build) => {
    expect(JSON.stringify(build()).length).toBeLessThanOrEqual(MAX_EVENT_PATTERN_LENGTH);
  });

  it("are stable: sorted, deduped, the same on every call", () => {
    const hub = securityHubPattern().detail.findings.$or;
    const lists = [
      cloudTrailPattern().source,
      cloudTrailPattern().detail.eventSource,
      cloudTrailPattern().detail.eventName,
      hub[0]?.Compliance?.SecurityControlId ?? [],
      hub[1]?.ProductFields?.ControlId ?? [],
      hub[2]?.GeneratorId ?? [],
    ];
    for (const list of lists) {
      expect(list).toEqual([...new Set(list)].sort());
      expect(list.length).toBeGreaterThan(0);
    }
    expect(JSON.stringify(cloudTrailPattern())).toBe(JSON.stringify(cloudTrailPattern()));
    expect(JSON.stringify(securityHubPattern())).toBe(JSON.stringify(securityHubPattern()));
  });

  it("the matcher used here is not vacuous: a pattern naming nothing matches nothing", () => {
    const event = fixture("realtime/cloudtrail/authorize-sg-ingress.json");
    expect(matches({ detail: { eventName: ["Nope"] } }, event)).toBe(false);
    expect(matches({ detail: { findings: { RecordState: ["ACTIVE"] } } }, event)).toBe(false);
    expect(matches({ $or: [{ source: ["aws.s3"] }, { source: ["aws.ec2"] }] }, event)).toBe(true);
  });
});
