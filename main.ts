// The cdktf app: `npm run synth` (or `npx cdktf-cli@0.21.0 synth|deploy`, see cdktf.json) bundles every function
// (scripts/build.ts) and writes cdktf.out/stacks/remedy/cdk.tf.json. Set REMEDY_SKIP_BUILD=1 to reuse dist/.
// State: terraform.remedy.tfstate at the repository root, or S3 with REMEDY_TF_STATE_BUCKET (see README, Deploy).
// Organisation mode: remedy.organization.json at the repository root (or REMEDY_ORGANIZATION_FILE) makes the hub
// stack serve the organisation, and adds the remedy-member and remedy-management-account stacks.
import { App } from "cdktf";
import { stateBackendFromEnv } from "./infra/backend.ts";
import {
  MANAGEMENT_STACK_NAME,
  MEMBER_STACK_NAME,
  RemedyManagementAccountStack,
  RemedyMemberStack,
} from "./infra/member-stacks.ts";
import { ORGANIZATION_FILE, OrganizationFileError, organizationSettingsFromFile } from "./infra/organization.ts";
import { RemedyStack, STACK_NAME } from "./infra/stack.ts";
import { installVariablesFile, VARIABLES_FILE } from "./infra/tfvars.ts";
import { buildAll, DIST, printSizes } from "./scripts/build.ts";

// Read before the (slower) build: a bad settings file stops the synth with one sentence, before anything is written.
let organization: ReturnType<typeof organizationSettingsFromFile>;
try {
  organization = organizationSettingsFromFile();
} catch (error) {
  if (!(error instanceof OrganizationFileError)) throw error;
  console.error(`synth stopped: ${error.message}`);
  process.exit(1);
}

if (process.env.REMEDY_SKIP_BUILD !== "1") printSizes(await buildAll());
const app = new App();
const backend = stateBackendFromEnv();
new RemedyStack(app, STACK_NAME, { distDir: DIST, backend, ...(organization ? { organization } : {}) });
if (organization) {
  new RemedyMemberStack(app, MEMBER_STACK_NAME, { settings: organization, backend });
  new RemedyManagementAccountStack(app, MANAGEMENT_STACK_NAME, { settings: organization, backend });
}
app.synth();
const stackDir = `${app.outdir}/stacks/${STACK_NAME}`;
console.log(
  organization
    ? `organisation mode (${ORGANIZATION_FILE}): ${organization.regions.join(", ")}; also wrote ${MEMBER_STACK_NAME} and ${MANAGEMENT_STACK_NAME}`
    : `single-account mode (no ${ORGANIZATION_FILE})`,
);
console.log(
  installVariablesFile(process.cwd(), stackDir)
    ? `${VARIABLES_FILE} copied into ${stackDir}: terraform and cdktf deploy will use it`
    : `no ${VARIABLES_FILE} here: the defaults apply (copy remedy.auto.tfvars.example to start one)`,
);
