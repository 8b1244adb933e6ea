// Module-loader hooks (node:module register()) that append the URL of every module Node's ESM loader loads to a
// file, one a line: which modules a process loaded (test/cli/startup.test.ts). Registered after tsx, which compiles
// this file; the AWS SDK's packages (CommonJS, imported from the CLI's ES modules) are seen as their entry file
// (node_modules/@aws-sdk/<package>/dist-cjs/index.js), what they require in turn is not.
import { appendFileSync } from "node:fs";
import type { InitializeHook, LoadHook } from "node:module";

let logFile: string | undefined;

export const initialize: InitializeHook<{ logFile: string }> = (data) => {
  logFile = data.logFile;
};

export const load: LoadHook = (url, context, nextLoad) => {
  if (logFile !== undefined) appendFileSync(logFile, `${url}\n`);
  return nextLoad(url, context);
};
