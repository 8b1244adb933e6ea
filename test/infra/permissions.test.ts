// Every AWS SDK command a function's code can send is declared in its permissions.ts (and so granted by the
// stack). Scans functions/<name>/**/*.ts plus every repository module reachable through relative imports.
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { FUNCTION_LIST, REMEDIATION_FUNCTION_NAMES } from "../../functions/registry.ts";
import { commandsIn, commandsSent, ROOT, sourceTree } from "../helpers/source-scan.ts";

/**
 * Commands that are in a module a function imports, but that the function never sends; each entry reviewed.
 * An entry that no longer matches the source fails the test, so this list cannot go stale.
 */
/** What the one remediation runner imports but never sends: the same for every remediation function. */
const REMEDIATION_NOT_SENT: Record<string, string> = {
  GetObjectCommand: "contract/ledger.ts: ledger.read is used by undo and the CLI, not by remediations",
  ListObjectsV2Command: "contract/ledger.ts: ledger.listRecent is used by the CLI status, not by remediations",
  PutParameterCommand: "platform/pause.ts: remediations only read the pause switch (readPauseState)",
};
const NOT_SENT: Partial<Record<string, Record<string, string>>> = {
  notifier: { PublishCommand: "contract/report.ts: the notifier imports parseReport only, never snsReporter" },
  ...Object.fromEntries(REMEDIATION_FUNCTION_NAMES.map((name) => [name, REMEDIATION_NOT_SENT])),
  "interactions-worker": {
    GenerateMacCommand: "contract/ledger.ts: only the remediations sign records (kmsRecordSigner); undo verifies",
    DescribeSnapshotsCommand: "problems/ebs-snapshot-public/live.ts: the listing and tags; the undo reads attributes",
    GetBucketTaggingCommand: "problems/s3-public/live.ts: the fix's tag read; the undo reads ACL, policy, BPA",
  },
};

describe("every SDK command a function sends is declared in its permissions.ts", () => {
  it("the scanner finds a command added anywhere in a source", () => {
    expect(commandsIn('await s3.send(new PutBucketWebsiteCommand({ Bucket: "b" }));')).toEqual([
      "PutBucketWebsiteCommand",
    ]);
  });

  it("the scan follows imports into platform/, contract/ and problems/", () => {
    const tree = sourceTree(join(ROOT, "functions/coordinator")).map((file) => relative(ROOT, file));
    for (const dir of ["platform/", "contract/", "problems/"])
      expect(tree.some((file) => file.startsWith(dir))).toBe(true);
    expect(tree.every((file) => !file.startsWith("functions/") || file.startsWith("functions/coordinator/"))).toBe(
      true,
    );
  });

  for (const spec of FUNCTION_LIST) {
    it(spec.name, () => {
      const sent = commandsSent(spec);
      const exempt = NOT_SENT[spec.name] ?? {};
      for (const command of Object.keys(exempt))
        expect(sent.has(command), `stale NOT_SENT entry ${command}`).toBe(true);
      const declared = { ...spec.permissions, ...spec.organizationPermissions };
      const undeclared = [...sent.keys()].filter((command) => !(command in declared) && !(command in exempt));
      expect(
        undeclared.map((command) => `${command} (${sent.get(command)!.join(", ")})`),
        `declare these with their IAM action (functions/<name>/permissions.ts, or the fix of a problem in its spec.ts)`,
      ).toEqual([]);
      // And nothing is declared that the code does not send.
      expect(Object.keys(declared).filter((command) => !sent.has(command))).toEqual([]);
      // A command is either always sent or organisation-only, never both.
      expect(Object.keys(spec.organizationPermissions).filter((command) => command in spec.permissions)).toEqual([]);
    });
  }
});
