// `remedy plan --live` for a type Config does not record (EBS snapshots): read through the type's inventory, page by
// page (EC2's recorded answers, test/fixtures/ec2-snapshots/, through the SDK's deserializer), never through Config,
// and judged exactly as the periodic scan judges it; read-only. A Config snapshot never holds an EBS snapshot, so an
// offline plan never shows one: only --live does.
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import { describe, expect, it } from "vitest";
import { type LiveClients, readLive } from "../../cli/live-plan.ts";
import { plan } from "../../cli/plan.ts";
import { DEFAULT_SETTINGS } from "../../cli/settings.ts";
import { RULES } from "../../detection/rules.ts";
import { ec2OnWire, fixtureAccount, type WireAnswer } from "../problems/ebs-snapshot-public/wire.ts";

const NOW = new Date("2026-11-23T12:00:00.000Z");
const CLIENT = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const SNAPSHOT = "AWS::EC2::Snapshot";

/** The plan's clients: EC2 on the wire (the fixture account); Config, S3 and S3 Control must never be asked. */
function clients(answer = fixtureAccount()) {
  const wire = ec2OnWire(answer);
  const refuse = {
    async handle() {
      throw new Error("plan --live must not ask this service about EBS snapshots");
    },
  } as never;
  const live: LiveClients = {
    configService: new ConfigServiceClient({ ...CLIENT, requestHandler: refuse }),
    ec2: wire.ec2 as EC2Client,
    s3: new S3Client({ ...CLIENT, requestHandler: refuse }),
    s3Control: new S3ControlClient({ ...CLIENT, requestHandler: refuse }),
  };
  return { live, wire };
}

const options = {
  accountId: "123456789012",
  region: "us-east-1",
  resourceTypes: [SNAPSHOT],
  now: NOW,
  accountBlock: false,
};

describe("plan --live: EBS snapshots, through their inventory", () => {
  it("lists every page through EC2 (not Config), skips the one deleted meanwhile, and says how the type was read", async () => {
    const { live, wire } = clients();
    const reading = await readLive(live, options);
    expect(reading.items.map((item) => (item as { resourceId: string }).resourceId)).toEqual([
      "snap-0a1b2c3d4e5f60718",
      "snap-0b2c3d4e5f6071829",
      "snap-0c3d4e5f607182930",
      "snap-0d4e5f60718293a41",
    ]);
    expect(reading.notRead).toEqual([]);
    expect(reading.source.types).toEqual([
      {
        resourceType: SNAPSHOT,
        via: "direct",
        why: "Config never records AWS::EC2::Snapshot",
      },
    ]);
    // Read-only: two listings, one attribute read per snapshot, no change.
    expect(wire.requests.map((request) => request.Action).sort()).toEqual([
      ...Array(5).fill("DescribeSnapshotAttribute"),
      "DescribeSnapshots",
      "DescribeSnapshots",
    ]);
  });

  it("judges them as the scan does: the public one would be fixed, the tagged one is exempt, the rest compliant", async () => {
    const { live } = clients();
    const reading = await readLive(live, options);
    const result = plan(
      reading.items,
      RULES.filter((rule) => rule.resourceTypes.includes(SNAPSHOT)),
      DEFAULT_SETTINGS,
      NOW,
    );
    expect(result).toMatchObject({ itemsJudged: 4, compliant: 2, nonCompliant: 2, malformed: [] });
    expect(result.findings.map((f) => [f.resourceId, f.status, f.action])).toEqual([
      ["snap-0a1b2c3d4e5f60718", "due", "remove public sharing createVolumePermission group all (every AWS account)"],
      ["snap-0d4e5f60718293a41", "exempt", "none (exempt)"],
    ]);
    expect(result.findings[1]!.exemption).toBe("tag until 2027-03-31: published dataset, ticket DATA-9");
    expect(result.instructions.map((instruction) => instruction.resource.id)).toEqual(["snap-0a1b2c3d4e5f60718"]);
  });

  it("a snapshot that cannot be read is listed as not read, the rest judged; a listing that fails judges none", async () => {
    const denied: Partial<Record<string, WireAnswer>> = {
      "snap-0c3d4e5f607182930": { file: "unauthorized-operation.error.xml", status: 403 },
    };
    const one = await readLive(clients(fixtureAccount(denied)).live, options);
    expect(one.items).toHaveLength(3);
    expect(one.notRead).toEqual([
      {
        resourceType: SNAPSHOT,
        resourceId: "snap-0c3d4e5f607182930",
        reason: expect.stringMatching(/^its permissions cannot be read: UnauthorizedOperation: /),
      },
    ]);
    const throttled = clients((request) =>
      request.Action === "DescribeSnapshots" && request.NextToken
        ? { file: "request-limit-exceeded.error.xml", status: 503 }
        : fixtureAccount()(request),
    );
    const none = await readLive(throttled.live, options);
    expect(none.items).toEqual([]);
    expect(none.notRead).toEqual([
      {
        resourceType: SNAPSHOT,
        reason: "EBS snapshots cannot be listed: RequestLimitExceeded: Request limit exceeded.",
      },
    ]);
  });

  it("asks Config only about the types it records: never about snapshots", async () => {
    const { live } = clients();
    const asked: { target: string; body: string }[] = [];
    live.configService = new ConfigServiceClient({
      ...CLIENT,
      maxAttempts: 1,
      requestHandler: {
        async handle(request: { headers: Record<string, string>; body?: Uint8Array | string }) {
          const body = typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body);
          asked.push({ target: request.headers["x-amz-target"] ?? "", body });
          throw new Error("Config is unreachable here");
        },
      } as never,
    });
    const reading = await readLive(live, { ...options, resourceTypes: ["AWS::EC2::SecurityGroup", SNAPSHOT] });
    expect(asked.map((request) => request.target)).toEqual(["StarlingDoveService.DescribeConfigurationRecorders"]);
    expect(asked.some((request) => request.body.includes(SNAPSHOT))).toBe(false);
    // The snapshots are judged whatever Config says.
    expect(reading.items).toHaveLength(4);
  });
});
