// Fix instructions for the CLI tests: a security group open on `port` to 0.0.0.0/0, captured before T0's hour.
import type { Finding } from "../../rules/types.ts";
import { buildInstructions, type Instruction } from "../../shared/instruction.ts";

export function sgInstruction(port: number, notBefore = "2026-11-20T10:00:00.000Z"): Instruction {
  const finding: Finding = {
    problem: "sg-open-ingress",
    matched: {
      kind: "sg-rule",
      rule: { direction: "ingress", ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
    },
    reason: `tcp ${port} open to 0.0.0.0/0`,
  };
  return buildInstructions(
    {
      resource: {
        type: "AWS::EC2::SecurityGroup",
        id: "sg-0123456789abcdef0",
        accountId: "123456789012",
        region: "us-east-1",
      },
      rule: { id: "sg-open-ingress", parameters: {} },
      capturedAt: "2026-11-20T09:00:00.000Z",
      detectedAt: "2026-11-20T09:01:00.000Z",
      notBefore,
    },
    [finding],
  )[0]!;
}
