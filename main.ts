// The cdktf app: `npm run synth` (or `npx cdktf-cli@0.21.0 synth|deploy`, see cdktf.json) bundles every function
// (scripts/build.ts) and writes cdktf.out/stacks/remedy/cdk.tf.json. Set REMEDY_SKIP_BUILD=1 to reuse dist/.
// State: terraform.remedy.tfstate at the repository root, or S3 with REMEDY_TF_STATE_BUCKET (see README, Deploy).
import { App } from "cdktf";
import { RemedyStack, STACK_NAME, stateBackendFromEnv } from "./infra/stack.ts";
import { installVariablesFile, VARIABLES_FILE } from "./infra/tfvars.ts";
import { buildAll, DIST, printSizes } from "./scripts/build.ts";

if (process.env.REMEDY_SKIP_BUILD !== "1") printSizes(await buildAll());
const app = new App();
new RemedyStack(app, STACK_NAME, { distDir: DIST, backend: stateBackendFromEnv() });
app.synth();
const stackDir = `${app.outdir}/stacks/${STACK_NAME}`;
console.log(
  installVariablesFile(process.cwd(), stackDir)
    ? `${VARIABLES_FILE} copied into ${stackDir}: terraform and cdktf deploy will use it`
    : `no ${VARIABLES_FILE} here: the defaults apply (copy remedy.auto.tfvars.example to start one)`,
);
