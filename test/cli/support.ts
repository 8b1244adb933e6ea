// Fix instructions for the CLI tests: a security group open on `port` to 0.0.0.0/0, captured before T0's hour.
import type { Instruction } from "../../contract/instruction.ts";
import { testInstruction } from "../support/instructions.ts";

export function sgInstruction(port: number, notBefore = "2026-11-20T10:00:00.000Z"): Instruction {
  return testInstruction({
    problem: "sg-open-ingress",
    resourceId: "sg-0123456789abcdef0",
    matched: [
      {
        kind: "sg-rule",
        rule: { direction: "ingress", ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
      },
    ],
    capturedAt: "2026-11-20T09:00:00.000Z",
    detectedAt: "2026-11-20T09:01:00.000Z",
    notBefore,
    reason: () => `tcp ${port} open to 0.0.0.0/0`,
  });
}
