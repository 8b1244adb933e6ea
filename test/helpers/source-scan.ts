// Which AWS SDK commands a piece of code can send: its own files plus every repository module reachable through
// relative imports. Used to check that each function (and the CLI) declares the IAM action of every command.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type FunctionSpec, functionSources } from "../../functions/registry.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Every folder of the product's source (tests, benches and scripts aside). */
export const SOURCE_DIRS = ["problems", "detection", "contract", "platform", "functions", "infra", "cli"] as const;

export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

// Type-only imports carry no code (the bundle drops them), so they are not followed.
const IMPORT = /(?:import|export)\s(?!type\s)[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** The function's own files and every repository module they reach through relative imports. */
export function sourceTree(functionDir: string): string[] {
  return reachableFrom(tsFiles(functionDir));
}

/** Every file a deployed function runs: its folder and its problems' fix modules, and all they import. */
export function functionTree(spec: FunctionSpec): string[] {
  return reachableFrom(
    functionSources(spec).flatMap((source) =>
      source.endsWith(".ts") ? [join(ROOT, source)] : tsFiles(join(ROOT, source)),
    ),
  );
}

/** The files and every repository module they reach through relative imports. */
export function reachableFrom(files: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...files];
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

export function commandsIn(source: string): string[] {
  return [...source.matchAll(/new\s+(\w+Command)\s*\(/g)].map((match) => match[1]!);
}

/** The commands sent from a folder's code (a string) or a deployed function's (a spec). */
export function commandsSent(code: string | FunctionSpec): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  for (const file of typeof code === "string" ? sourceTree(code) : functionTree(code)) {
    for (const command of commandsIn(readFileSync(file, "utf8"))) {
      sent.set(command, [...(sent.get(command) ?? []), relative(ROOT, file)]);
    }
  }
  return sent;
}
