import { describe, expect, it } from "vitest";
import {
  classifyAwsError,
  describeAwsError,
  PermanentRemediationError,
  TransientRemediationError,
} from "../../platform/aws-errors.ts";
import { awsError } from "./support.ts";

describe("classifyAwsError", () => {
  it.each([
    ["AccessDenied", 403],
    ["AccessDeniedException", 400],
    ["UnauthorizedOperation", 403],
    ["AuthFailure", 401],
    ["InvalidParameterValue", 400],
    ["InvalidGroupId.Malformed", 400],
    ["MalformedPolicy", 400],
    ["InvalidArgument", 400],
    ["ValidationError", 400],
    ["AccessControlListNotSupported", 400],
    ["SomethingNew", 400],
  ])("%s is permanent", (name, status) => {
    expect(classifyAwsError(awsError(name, status))).toBe("permanent");
  });

  it.each([
    ["Throttling", 400],
    ["ThrottlingException", 400],
    ["RequestLimitExceeded", 503],
    ["SlowDown", 503],
    ["TooManyRequestsException", 429],
    ["InternalError", 500],
    ["AnythingAtAll", 503],
    ["TimeoutError", 0],
  ])("%s is transient", (name, status) => {
    expect(classifyAwsError(awsError(name, status))).toBe("transient");
  });

  it.each(["InvalidGroup.NotFound", "InvalidSecurityGroupRuleId.NotFound", "NoSuchBucket"])("%s is gone", (name) => {
    expect(classifyAwsError(awsError(name, 400))).toBe("gone");
  });

  it("reads Node network codes, $retryable and our own typed errors", () => {
    expect(classifyAwsError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe("transient");
    expect(classifyAwsError(Object.assign(new Error("x"), { name: "Odd", $retryable: {} }))).toBe("transient");
    expect(classifyAwsError(new TransientRemediationError("later"))).toBe("transient");
    expect(classifyAwsError(new PermanentRemediationError("never", { code: "Throttling" }))).toBe("permanent");
    expect(classifyAwsError(new TypeError("bug"))).toBe("permanent");
  });

  it("describes an error with its code once", () => {
    expect(describeAwsError(awsError("AccessDenied", 403, "Access Denied"))).toBe("AccessDenied: Access Denied");
    expect(describeAwsError(new Error("plain"))).toBe("plain");
  });
});
