// Which AWS SDK commands a piece of code can send: its own files plus every repository module reachable through
// relative imports. Used to check that each function (and the CLI) declares the IAM action of every command.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

/** The function's own files and every repository module they reach through relative imports. */
export function sourceTree(functionDir: string): string[] {
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

export function commandsIn(source: string): string[] {
  return [...source.matchAll(/new\s+(\w+Command)\s*\(/g)].map((match) => match[1]!);
}

export function commandsSent(functionDir: string): Map<string, string[]> {
  const sent = new Map<string, string[]>();
  for (const file of sourceTree(functionDir)) {
    for (const command of commandsIn(readFileSync(file, "utf8"))) {
      sent.set(command, [...(sent.get(command) ?? []), relative(ROOT, file)]);
    }
  }
  return sent;
}
