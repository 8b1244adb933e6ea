// Remedy's own errors share one base that says whether retrying can help; the remediation runner's sorting
// (classifyAwsError) follows it, and no module defines an error outside it.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { InvalidInstructionError } from "../../contract/instruction.ts";
import { CoordinatorStateConflictError, InvalidCoordinatorStateError } from "../../functions/coordinator/state.ts";
import { SlackDeliveryError } from "../../functions/notifier/slack.ts";
import { classifyAwsError, PermanentRemediationError, TransientRemediationError } from "../../platform/aws-errors.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { failureKind, PermanentError, RemedyError, RetryableError } from "../../platform/errors.ts";
import { MessageSendError } from "../../platform/queue.ts";
import { ROOT, SOURCE_DIRS, tsFiles } from "../helpers/source-scan.ts";

describe("Remedy's errors", () => {
  it("each says whether retrying can help", () => {
    expect(failureKind(new InvalidInstructionError("bad"))).toBe("permanent");
    expect(failureKind(new ConfigurationError("missing"))).toBe("permanent");
    expect(failureKind(new InvalidCoordinatorStateError("bad state"))).toBe("permanent");
    expect(failureKind(new CoordinatorStateConflictError("lost the race"))).toBe("retryable");
    expect(failureKind(new MessageSendError(["1"], ["throttled"]))).toBe("retryable");
    expect(failureKind(new PermanentRemediationError("denied"))).toBe("permanent");
    expect(failureKind(new TransientRemediationError("throttled"))).toBe("retryable");
    expect(failureKind(new Error("plain"))).toBeUndefined();
  });

  it("a Slack delivery is permanent only when Slack refused it for good", () => {
    const details = { url: "https://hooks.slack.com/services/T/B/X", attempts: 1 };
    expect(new SlackDeliveryError("404", { ...details, permanent: true }).kind).toBe("permanent");
    expect(new SlackDeliveryError("503", { ...details, permanent: false }).kind).toBe("retryable");
  });

  it("the runner's sorting follows the kind, whatever the class", () => {
    expect(classifyAwsError(new InvalidInstructionError("bad"))).toBe("permanent");
    expect(classifyAwsError(new CoordinatorStateConflictError("race"))).toBe("transient");
    // Not ours: sorted by the AWS error code.
    expect(classifyAwsError(Object.assign(new Error("slow down"), { name: "SlowDown" }))).toBe("transient");
  });

  it("keep their own names and causes", () => {
    const cause = new Error("root");
    const error = new PermanentRemediationError("denied", { cause });
    expect(error).toBeInstanceOf(RemedyError);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).not.toBeInstanceOf(RetryableError);
    expect(error.name).toBe("PermanentRemediationError");
    expect(error.cause).toBe(cause);
  });

  it("no module defines an error class outside the base", () => {
    const plain = SOURCE_DIRS.flatMap((dir) =>
      tsFiles(join(ROOT, dir)).flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/class (\w+) extends Error\b/g)].map(
          (match) => `${relative(ROOT, file)}: ${match[1]}`,
        ),
      ),
    );
    // The base itself is the one class that extends Error.
    expect(plain).toEqual(["platform/errors.ts: RemedyError"]);
  });
});
