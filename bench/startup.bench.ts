// How long a `remedy` invocation takes, start to exit: `node bin/remedy.js ...` in a fresh process, as a user runs
// it (Node, tsx, then only the modules the command runs: see CommandDeps in cli/deps.ts). One warm-up run first (it
// fills tsx's compile cache), then the mean of `runs`. None of these calls AWS.
// Run: npx tsx bench/startup.bench.ts [runs]
import { execFileSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

const BIN = fileURLToPath(new URL("../bin/remedy.js", import.meta.url));

export const INVOCATIONS: readonly (readonly string[])[] = [
  ["--version"],
  ["help"],
  ["plan", "--json"],
  ["status", "--help"],
];

export interface StartupFigure {
  /** The command line after "remedy". */
  command: string;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

function once(args: readonly string[]): number {
  const start = performance.now();
  execFileSync(process.execPath, [BIN, ...args], { stdio: "ignore" });
  return performance.now() - start;
}

export function main(runs = 5): StartupFigure[] {
  return INVOCATIONS.map((args) => {
    once(args);
    const times = Array.from({ length: runs }, () => once(args));
    return {
      command: args.join(" "),
      meanMs: times.reduce((sum, ms) => sum + ms, 0) / runs,
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
    };
  });
}

export function print(figures: readonly StartupFigure[], runs = 5): void {
  console.log(`remedy <command>, node bin/remedy.js start to exit, mean of ${runs} runs after one warm-up`);
  console.table(
    Object.fromEntries(
      figures.map((figure) => [
        `remedy ${figure.command}`,
        { "mean ms": figure.meanMs.toFixed(0), "min ms": figure.minMs.toFixed(0), "max ms": figure.maxMs.toFixed(0) },
      ]),
    ),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Number(process.argv[2] ?? 5);
  print(main(runs), runs);
}
