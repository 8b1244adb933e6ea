// The account-level Block Public Access reading: S3 Control's answers as the SDK shapes them, cached per account for
// a few minutes, and a failure that degrades to "not known" (never a crash).
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT_FACTS_TTL_MS, accountFactsReader } from "../../detection/account-facts.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { awsError } from "../remediation/support.ts";

const s3control = mockClient(S3ControlClient);
beforeEach(() => s3control.reset());
afterAll(() => s3control.restore());

function reader() {
  let now = new Date("2026-11-20T10:00:00Z").getTime();
  const log = recordingLog();
  const read = accountFactsReader({
    s3control: () => new S3ControlClient({ region: "us-east-1" }),
    now: () => new Date(now),
    log,
  });
  return { read, log, advance: (ms: number) => (now += ms) };
}

describe("account facts", () => {
  it("reads the account's flags once and reuses them for the TTL", async () => {
    s3control.on(GetPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: { IgnorePublicAcls: true, RestrictPublicBuckets: false },
    });
    const t = reader();
    const expected = { s3PublicAccessBlock: { IgnorePublicAcls: true, RestrictPublicBuckets: false } };
    expect(await t.read("123456789012", ["s3PublicAccessBlock"])).toEqual(expected);
    t.advance(ACCOUNT_FACTS_TTL_MS - 1);
    expect(await t.read("123456789012", ["s3PublicAccessBlock"])).toEqual(expected);
    expect(s3control.commandCalls(GetPublicAccessBlockCommand)).toHaveLength(1);
    expect(s3control.commandCalls(GetPublicAccessBlockCommand)[0]!.args[0].input).toEqual({
      AccountId: "123456789012",
    });
    t.advance(2);
    await t.read("123456789012", ["s3PublicAccessBlock"]);
    expect(s3control.commandCalls(GetPublicAccessBlockCommand)).toHaveLength(2);
  });

  it("none configured is null (known: nothing is blocked)", async () => {
    s3control.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
    expect(await reader().read("123456789012", ["s3PublicAccessBlock"])).toEqual({ s3PublicAccessBlock: null });
  });

  it.each([
    ["AccessDenied", awsError("AccessDenied", 403)],
    ["throttling", awsError("ThrottlingException", 400)],
  ])("%s degrades to not known, with a warning, and is asked again next time", async (_what, error) => {
    s3control.on(GetPublicAccessBlockCommand).rejects(error);
    const t = reader();
    expect(await t.read("123456789012", ["s3PublicAccessBlock"])).toEqual({});
    expect(t.log.lines.map((line) => line.message)).toEqual([
      "account-level Block Public Access unreadable: judging with the bucket-level flags only",
    ]);
    await t.read("123456789012", ["s3PublicAccessBlock"]);
    expect(s3control.commandCalls(GetPublicAccessBlockCommand).length).toBeGreaterThanOrEqual(2);
  });

  it("reads nothing a rule does not ask for", async () => {
    expect(await reader().read("123456789012", [])).toEqual({});
    expect(s3control.calls()).toHaveLength(0);
  });
});
