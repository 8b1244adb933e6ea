// The cdktf app: `npm run synth` (or `npx cdktf-cli@0.21.0 synth|deploy`, see cdktf.json) bundles every function
// (scripts/build.ts) and writes cdktf.out/stacks/remedy/cdk.tf.json. Set REMEDY_SKIP_BUILD=1 to reuse dist/.
import { App } from "cdktf";
import { RemedyStack, STACK_NAME } from "./infra/stack.ts";
import { buildAll, DIST, printSizes } from "./scripts/build.ts";

if (process.env.REMEDY_SKIP_BUILD !== "1") printSizes(await buildAll());
const app = new App();
new RemedyStack(app, STACK_NAME, { distDir: DIST });
app.synth();
