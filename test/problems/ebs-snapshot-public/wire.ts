// EC2 on the wire, for the EBS snapshot tests: an EC2Client whose every request is answered with one of EC2's recorded
// XML answers (test/fixtures/ec2-snapshots/), run through the SDK's own deserializer, so the code under test sees what
// the SDK makes of what EC2 sends. The world says which answer a request gets; every request is kept (its Query
// parameters) for the tests to check what was sent.
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { EC2Client } from "@aws-sdk/client-ec2";

const FIXTURES = fileURLToPath(new URL("../../fixtures/ec2-snapshots/", import.meta.url));

/** One recorded answer: a fixture file (and its HTTP status; errors are 400). */
export interface WireAnswer {
  file: string;
  status?: number;
}

/** The Query parameters of one request, as EC2 receives them ("Action", "SnapshotId", "UserGroup.1", …). */
export type WireRequest = Record<string, string>;

export function fixtureXml(file: string): string {
  return readFileSync(`${FIXTURES}${file}`, "utf8");
}

/** An EC2Client answering each request as `answer` says, with the recorded requests. */
export function ec2OnWire(answer: (request: WireRequest) => WireAnswer): { ec2: EC2Client; requests: WireRequest[] } {
  const requests: WireRequest[] = [];
  const ec2 = new EC2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { body?: unknown }) {
        const params = Object.fromEntries(new URLSearchParams(String(request.body ?? "")));
        requests.push(params);
        const { file, status = 200 } = answer(params);
        return {
          response: {
            statusCode: status,
            headers: { "content-type": "text/xml;charset=UTF-8", "x-amzn-requestid": "f1d0c0de" },
            body: Readable.from([Buffer.from(fixtureXml(file))]),
          },
        };
      },
    } as never,
  });
  return { ec2, requests };
}

/** The account of the fixtures, as EC2 answers for it: two pages of snapshots, each one's permissions. */
export function fixtureAccount(
  overrides: Partial<Record<string, WireAnswer>> = {},
): (request: WireRequest) => WireAnswer {
  return (request) => {
    switch (request.Action) {
      case "DescribeSnapshots":
        return request.NextToken
          ? { file: "describe-snapshots.page-2.xml" }
          : { file: "describe-snapshots.page-1.xml" };
      case "DescribeSnapshotAttribute": {
        const id = request.SnapshotId!;
        return (
          overrides[id] ??
          (id === "snap-0e5f60718293a4b52"
            ? { file: "invalid-snapshot-not-found.error.xml", status: 400 }
            : { file: `describe-snapshot-attribute.${id}.xml` })
        );
      }
      case "ModifySnapshotAttribute":
        return { file: "modify-snapshot-attribute.xml" };
      default:
        throw new Error(`no recorded answer for ${request.Action}`);
    }
  };
}
