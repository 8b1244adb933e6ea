// Who turned the account's Block Public Access off: its calls name no resource in CloudTrail (their `resources` is
// empty), so attribution looks each opening event up by name, and takes the most recent one that opened something.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type AttributionTarget, attribute, opensHole } from "../../functions/notifier/attribution.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { lookupResponse } from "./helpers.ts";

const cloudTrailMock = mockClient(CloudTrailClient);
beforeEach(() => cloudTrailMock.reset());
afterAll(() => cloudTrailMock.restore());

const NOW = new Date("2026-11-20T10:45:00.000Z");
const account: AttributionTarget = {
  resourceType: "AWS::S3::AccountPublicAccessBlock",
  resourceId: "123456789012",
  accountId: "123456789012",
  region: "us-east-1",
};
const deps = () => ({
  cloudTrail: new CloudTrailClient({}),
  home: { region: "us-east-1", accountId: "123456789012" },
  lookbackDays: 7,
  slackUsers: { "jo.dev@example.com": "U056JO" },
  now: () => NOW,
  log: recordingLog(),
});

describe("attribution of the account's Block Public Access", () => {
  it("looks up each opening call by name and names the latest that opened something", async () => {
    cloudTrailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "PutAccountPublicAccessBlock" }],
      })
      .resolves(lookupResponse("account-bpa-put"))
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DeleteAccountPublicAccessBlock" }],
      })
      .resolves(lookupResponse("account-bpa-delete"));
    const result = await attribute(account, deps());
    expect(cloudTrailMock.commandCalls(LookupEventsCommand).map((call) => call.args[0].input)).toEqual([
      {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "PutAccountPublicAccessBlock" }],
        StartTime: new Date("2026-11-13T10:45:00.000Z"),
        EndTime: NOW,
        MaxResults: 50,
      },
      {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DeleteAccountPublicAccessBlock" }],
        StartTime: new Date("2026-11-13T10:45:00.000Z"),
        EndTime: NOW,
        MaxResults: 50,
      },
    ]);
    expect(result).toMatchObject({
      found: true,
      event: {
        eventName: "DeleteAccountPublicAccessBlock",
        eventTime: "2026-11-20T10:39:31.000Z",
        principal: { type: "AssumedRole", description: expect.stringContaining("jo.dev@example.com") },
        slackUserId: "U056JO",
      },
    });
  });

  it("Remedy's own call turning every flag on is no opening: the user's earlier call is named", async () => {
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolves({ Events: [] })
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "PutAccountPublicAccessBlock" }],
      })
      .resolves(lookupResponse("account-bpa-put"));
    const result = await attribute(account, deps());
    expect(result).toMatchObject({
      found: true,
      event: { eventName: "PutAccountPublicAccessBlock", eventTime: "2026-11-20T10:38:50.000Z" },
    });
  });

  it("a PutAccountPublicAccessBlock opens only when it leaves a flag off", () => {
    const put = (flags: Record<string, boolean>) => ({ requestParameters: { PublicAccessBlockConfiguration: flags } });
    const on = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    expect(opensHole("PutAccountPublicAccessBlock", put(on))).toBe(false);
    expect(opensHole("PutAccountPublicAccessBlock", put({ ...on, RestrictPublicBuckets: false }))).toBe(true);
    expect(opensHole("DeleteAccountPublicAccessBlock", { requestParameters: { Host: "x" } })).toBe(true);
  });
});
