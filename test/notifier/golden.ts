// Golden files: rendered messages are compared with test/golden/notifier/<name>.golden.txt. Run with
// UPDATE_GOLDEN=1 to write them, then read the diff: they are what Slack watchers will see.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import type { SlackMessage } from "../../functions/notifier/message.ts";

const dir = fileURLToPath(new URL("../golden/notifier/", import.meta.url));

/** The golden form of a message: the fallback text as Slack gets it, then the blocks and attachments. */
export function goldenText(message: SlackMessage): string {
  const { text, ...rest } = message;
  return `=== text ===\n${text}\n=== blocks + attachments ===\n${JSON.stringify(rest, null, 2)}\n`;
}

export function expectGolden(name: string, message: SlackMessage): void {
  const file = `${dir}${name}.golden.txt`;
  const actual = goldenText(message);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file))
    throw new Error(`missing golden file ${file}: run UPDATE_GOLDEN=1 npx vitest run test/notifier`);
  expect(actual, `golden ${name} differs (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, "utf8"));
}
