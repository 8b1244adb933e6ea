// Every AWS SDK command a function's code can send is declared in its permissions.ts (and so granted by the
// stack). Scans functions/<name>/**/*.ts plus every shared/ and rules/ module reachable through relative imports.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { FUNCTION_LIST } from "../../functions/registry.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** The function's own files and every repository module they reach through relative imports. */
function sourceTree(functionDir: string): string[] {
  const seen = new Set<string>();
  const queue = tsFiles(functionDir);
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const target = resolve(dirname(file), (match[1] ?? match[2])!);
      if (target.endsWith(".ts") && !relative(ROOT, target).startsWith("..")) queue.push(target);
    }
  }
  return [...seen].sort();
}

function commandsIn(source: string): string[] {
  return [...source.matchAll(/new\s+(\w+Command)\s*\(/g)].map((match) => match[1]!);
}

function commandsSent(functionDir: string): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  for (const file of sourceTree(functionDir)) {
    for (const command of commandsIn(readFileSync(file, "utf8"))) {
      sent.set(command, [...(sent.get(command) ?? []), relative(ROOT, file)]);
    }
  }
  return sent;
}

/**
 * Commands that are in a module a function imports, but that the function never sends; each entry reviewed.
 * An entry that no longer matches the source fails the test, so this list cannot go stale.
 */
const NOT_SENT: Partial<Record<string, Record<string, string>>> = {
  notifier: { PublishCommand: "shared/report.ts: the notifier imports parseReport only, never snsReporter" },
  "remediate-sg": {
    GetObjectCommand: "shared/ledger.ts: ledger.read is used by undo and the CLI, not by remediations",
    ListObjectsV2Command: "shared/ledger.ts: ledger.listRecent is used by the CLI status, not by remediations",
  },
  "remediate-s3": {
    GetObjectCommand: "shared/ledger.ts: ledger.read is used by undo and the CLI, not by remediations",
    ListObjectsV2Command: "shared/ledger.ts: ledger.listRecent is used by the CLI status, not by remediations",
  },
};

describe("every SDK command a function sends is declared in its permissions.ts", () => {
  it("the scanner finds a command added anywhere in a source", () => {
    expect(commandsIn('await s3.send(new PutBucketWebsiteCommand({ Bucket: "b" }));')).toEqual([
      "PutBucketWebsiteCommand",
    ]);
  });

  it("the scan follows imports into shared/ and rules/", () => {
    const tree = sourceTree(join(ROOT, "functions/coordinator")).map((file) => relative(ROOT, file));
    expect(tree.some((file) => file.startsWith("shared/"))).toBe(true);
    expect(tree.every((file) => !file.startsWith("functions/") || file.startsWith("functions/coordinator/"))).toBe(
      true,
    );
  });

  for (const spec of FUNCTION_LIST) {
    it(spec.name, () => {
      const sent = commandsSent(join(ROOT, dirname(spec.entry)));
      const exempt = NOT_SENT[spec.name] ?? {};
      for (const command of Object.keys(exempt))
        expect(sent.has(command), `stale NOT_SENT entry ${command}`).toBe(true);
      const undeclared = [...sent.keys()].filter((command) => !(command in spec.permissions) && !(command in exempt));
      expect(
        undeclared.map((command) => `${command} (${sent.get(command)!.join(", ")})`),
        `add these to functions/${spec.name}/permissions.ts with their IAM action`,
      ).toEqual([]);
      // And nothing is declared that the code does not send.
      expect(Object.keys(spec.permissions).filter((command) => !sent.has(command))).toEqual([]);
    });
  }
});
