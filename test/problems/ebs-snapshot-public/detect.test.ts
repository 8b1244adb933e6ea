// The rule "EBS snapshots public to every AWS account" on the items the inventory builds from EC2's recorded answers
// (test/fixtures/ec2-snapshots/): the acceptance list for a type Config does not record. "Deleted" and
// "oversized" are what they become on the inventory's path: a snapshot gone before its attribute read is skipped, and
// there is no oversized item (each page holds whole snapshots).
import { describe, expect, it } from "vitest";
import { InvalidConfigItemError, normalizeConfigItem } from "../../../detection/config-item.ts";
import { parseAllowlist } from "../../../detection/exemptions.ts";
import { judgeItem } from "../../../detection/judge.ts";
import { RULES } from "../../../detection/rules.ts";
import { type ConfigItem, RuleParameterError } from "../../../detection/types.ts";
import {
  checkedPermissions,
  ebsSnapshotPublicRule,
  InvalidSnapshotPermissionsError,
  parseEbsSnapshotPublicParameters,
  snapshotVerdict,
} from "../../../problems/ebs-snapshot-public/detect.ts";
import { snapshotInventory } from "../../../problems/ebs-snapshot-public/inventory.ts";
import { ec2OnWire, fixtureAccount } from "./wire.ts";

const NOW = new Date("2026-11-20T10:00:00.000Z");
const PLACE = { accountId: "123456789012", region: "us-east-1" };
const PARAMS = parseEbsSnapshotPublicParameters({});

/** Every snapshot of the fixture account, as the inventory builds it (both pages), by id. */
async function fixtureItems(): Promise<Map<string, Record<string, unknown>>> {
  const { ec2 } = ec2OnWire(fixtureAccount());
  const inventory = snapshotInventory({ ec2, now: () => NOW });
  const items = new Map<string, Record<string, unknown>>();
  let token: string | undefined;
  do {
    const page = await inventory.page(PLACE, token);
    for (const item of page.items) items.set(item.resourceId as string, item);
    token = page.nextToken;
  } while (token);
  return items;
}

const ITEMS = await fixtureItems();

function item(id: string): ConfigItem {
  return normalizeConfigItem(ITEMS.get(id));
}

function judge(id: string, allowlist: unknown[] = []) {
  return judgeItem(item(id), ebsSnapshotPublicRule, PARAMS, {
    allowlist: parseAllowlist(allowlist).entries,
    now: NOW,
    gracePeriodMs: 0,
    configRuleName: "remedy-ebs-snapshot-public",
  });
}

describe("ebs-snapshot-public: the rule", () => {
  it("is the registry's rule for AWS::EC2::Snapshot and takes no parameters", () => {
    expect(RULES.find((rule) => rule.id === "ebs-snapshot-public")).toBe(ebsSnapshotPublicRule);
    expect(ebsSnapshotPublicRule.resourceTypes).toEqual(["AWS::EC2::Snapshot"]);
    expect(() => parseEbsSnapshotPublicParameters({ groups: "all" })).toThrow(RuleParameterError);
    expect(() => parseEbsSnapshotPublicParameters({ groups: "all" })).toThrow('Rule parameter "groups"');
  });

  it("compliant: a private snapshot, and one shared with an account by id", () => {
    expect(judge("snap-0b2c3d4e5f6071829")).toMatchObject({
      compliance: "COMPLIANT",
      annotation: "not public (not shared)",
      findings: [],
      instructions: [],
    });
    expect(judge("snap-0c3d4e5f607182930")).toMatchObject({
      compliance: "COMPLIANT",
      annotation: "not public (shared with 1 account by id)",
      findings: [],
      instructions: [],
    });
  });

  it("violating: public only — one finding, the group all, one instruction", () => {
    const item = normalizeConfigItem({
      ...ITEMS.get("snap-0d4e5f60718293a41"),
      tags: {},
      configuration: { ...(ITEMS.get("snap-0d4e5f60718293a41")!.configuration as object), Tags: [] },
    });
    const judgement = judgeItem(item, ebsSnapshotPublicRule, PARAMS, { allowlist: [], now: NOW, gracePeriodMs: 0 });
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.findings.map((finding) => finding.matched)).toEqual([
      { kind: "ebs-snapshot-permission", group: "all" },
    ]);
    expect(judgement.instructions).toHaveLength(1);
    expect(judgement.instructions[0]).toMatchObject({
      problem: "ebs-snapshot-public",
      resource: {
        type: "AWS::EC2::Snapshot",
        id: "snap-0d4e5f60718293a41",
        arn: "arn:aws:ec2:us-east-1::snapshot/snap-0d4e5f60718293a41",
        accountId: "123456789012",
        region: "us-east-1",
      },
      matched: [{ kind: "ebs-snapshot-permission", group: "all" }],
    });
  });

  it("partially violating: shared with an account and with all — only all is a finding; the account is no entry", () => {
    const judgement = judge("snap-0a1b2c3d4e5f60718");
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.annotation).toBe(
      "public: createVolumePermission includes group all (any AWS account can copy its data); also shared with 1 account by id, which stay",
    );
    expect(judgement.instructions.map((instruction) => instruction.matched)).toEqual([
      [{ kind: "ebs-snapshot-permission", group: "all" }],
    ]);
    expect(JSON.stringify(judgement.instructions)).not.toContain("111122223333");
  });

  it("exempt by tag: reported NON_COMPLIANT with the exemption, never queued", () => {
    const judgement = judge("snap-0d4e5f60718293a41");
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.findings[0]!.exemption).toMatchObject({ source: "tag", until: "2027-03-31" });
    expect(judgement.instructions).toEqual([]);
  });

  it("exempt by allowlist, by the snapshot's ARN (no account in it, as EC2 writes it) or by its id", () => {
    const entry = {
      problems: ["ebs-snapshot-public"],
      reason: "shared AMI source",
      owner: "platform",
      expires: "2027-06-30",
    };
    for (const resource of ["arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718", "snap-0a1b2c3d4e5f6*"]) {
      const judgement = judge("snap-0a1b2c3d4e5f60718", [{ ...entry, resource }]);
      expect(judgement.findings[0]!.exemption, resource).toMatchObject({ source: "allowlist", until: "2027-06-30" });
      expect(judgement.instructions).toEqual([]);
    }
    // Another problem's entry exempts nothing here.
    expect(
      judge("snap-0a1b2c3d4e5f60718", [{ ...entry, problems: ["s3-public-acl"], resource: "*" }]).instructions,
    ).toHaveLength(1);
  });

  it("deleted: a snapshot gone between the listing and its attribute read is skipped, never judged", async () => {
    const { ec2 } = ec2OnWire(fixtureAccount());
    const page = await snapshotInventory({ ec2, now: () => NOW }).page(PLACE, "next");
    expect(page.items.map((entry) => entry.resourceId)).toEqual(["snap-0d4e5f60718293a41"]);
    expect(page).toMatchObject({ gone: 1, unread: [] });
    expect(ITEMS.has("snap-0e5f60718293a4b52")).toBe(false);
    // An item that says it is deleted (as Config's would) is not applicable.
    const deleted = normalizeConfigItem({
      ...ITEMS.get("snap-0a1b2c3d4e5f60718"),
      configurationItemStatus: "ResourceDeleted",
      configuration: null,
    });
    expect(
      judgeItem(deleted, ebsSnapshotPublicRule, PARAMS, { allowlist: [], now: NOW, gracePeriodMs: 0 }),
    ).toMatchObject({
      compliance: "NOT_APPLICABLE",
      instructions: [],
    });
  });

  it("oversized: there is no oversized item for a type Config does not record — every page item carries its whole permission list", () => {
    for (const [id, raw] of ITEMS) {
      const supplementary = raw.supplementaryConfiguration as { CreateVolumePermissions?: unknown };
      expect(Array.isArray(supplementary.CreateVolumePermissions), id).toBe(true);
      expect(raw.configuration, id).toMatchObject({ SnapshotId: id, OwnerId: "123456789012" });
    }
  });

  it("an item without a readable permission list cannot be judged (never a silent COMPLIANT)", () => {
    const base = ITEMS.get("snap-0b2c3d4e5f6071829")!;
    for (const [permissions, message] of [
      [undefined, "CreateVolumePermissions is missing"],
      [[{ Group: "everyone" }], 'Group is "everyone", expected "all"'],
      [[{ Group: "all", UserId: "111122223333" }], "names both a Group and a UserId"],
      [[{ UserId: "alice" }], 'UserId is "alice", expected an account id'],
    ] as const) {
      const broken = normalizeConfigItem({
        ...base,
        supplementaryConfiguration: { CreateVolumePermissions: permissions },
      });
      expect(() => ebsSnapshotPublicRule.evaluate(broken, PARAMS)).toThrow(InvalidConfigItemError);
      expect(() => ebsSnapshotPublicRule.evaluate(broken, PARAMS)).toThrow(message);
    }
  });

  it("judges the live list (observe.ts) exactly as the item: the same verdict", () => {
    for (const [id, raw] of ITEMS) {
      const live = checkedPermissions(
        (raw.supplementaryConfiguration as { CreateVolumePermissions: unknown }).CreateVolumePermissions,
      );
      expect(snapshotVerdict(live), id).toEqual(ebsSnapshotPublicRule.evaluate(item(id), PARAMS));
    }
    expect(() => checkedPermissions("all")).toThrow(InvalidSnapshotPermissionsError);
  });
});
