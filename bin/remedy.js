#!/usr/bin/env node
// The `remedy` command (package.json "bin"). Runs cli/remedy.ts through this repo's own tsx, whatever the working
// directory: `npx remedy` in the repo, `remedy` after `npm link`. Node resolves this file's symlinks, so "tsx" below
// is always the repo's node_modules/tsx (a devDependency: run `npm ci` first).
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

// The repo's tsconfig, not one found from the working directory (which may be another project's).
register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { main } = await import("../cli/remedy.ts");
await main(process.argv.slice(2));
