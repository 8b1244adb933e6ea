import { describe, expect, it } from "vitest";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { judgeItem } from "../../detection/judge.ts";
import { deployedRuleNamed } from "../../platform/deployment.ts";
import { sgOpenIngressRule } from "../../problems/sg-open-ingress/detect.ts";
import { configItem } from "../fixtures/load.ts";
import { testDeployment } from "../remediation/support.ts";

const context = { allowlist: [], now: new Date("2026-11-20T12:00:00Z"), gracePeriodMs: 30 * 60_000 };

describe("judgeItem", () => {
  it("finds the deployed rule behind a Config rule name by its exact name only", () => {
    const deployment = testDeployment();
    expect(deployedRuleNamed(deployment, "remedy-sg-open-ingress")?.rule.id).toBe("sg-open-ingress");
    expect(deployedRuleNamed(deployment, "remedy-s3-public")?.rule.id).toBe("s3-public");
    // A suffix match would let any Config rule pointed at the function in.
    expect(deployedRuleNamed(deployment, "acme-prod-s3-public")).toBeUndefined();
    expect(deployedRuleNamed(deployment, "evil-remedy-sg-open-ingress")).toBeUndefined();
    expect(deployedRuleNamed(deployment, "restricted-ssh")).toBeUndefined();
  });

  it("sets notBefore from the capture time plus the grace period", () => {
    const item = normalizeConfigItem(configItem("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
    const judgement = judgeItem(item, sgOpenIngressRule, sgOpenIngressRule.parseParameters({}), context);
    expect(judgement.instructions[0]!.notBefore).toBe(
      new Date(Date.parse(item.captureTime) + 30 * 60_000).toISOString(),
    );
  });

  it("keeps a finding too large for any message NON_COMPLIANT, queues the others, and says to fix it by hand", () => {
    const raw = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    raw.configuration.ipPermissions.push({
      ipProtocol: "tcp",
      fromPort: 3389,
      toPort: 3389,
      ipv4Ranges: [{ cidrIp: "0.0.0.0/0", description: "d".repeat(300_000) }],
      ipv6Ranges: [],
      prefixListIds: [],
      userIdGroupPairs: [],
    });
    const judgement = judgeItem(
      normalizeConfigItem(raw),
      sgOpenIngressRule,
      sgOpenIngressRule.parseParameters({}),
      context,
    );
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.findings.length).toBeGreaterThanOrEqual(2);
    const queuedPorts = judgement.instructions.flatMap((instruction) =>
      instruction.matched.map((entry) => (entry.kind === "sg-rule" ? entry.rule.fromPort : -1)),
    );
    expect(queuedPorts).toContain(22);
    expect(queuedPorts).not.toContain(3389);
    expect(judgement.notes).toEqual(["a sg-open-ingress finding is too large for a fix instruction: fix it by hand"]);
    expect(judgement.annotation).toContain("fix it by hand");
  });
});
