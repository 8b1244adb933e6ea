// Where Terraform keeps the state of this app's stacks: a local file at the repository root by default, or S3.
import { LocalBackend, S3Backend, type TerraformStack } from "cdktf";

/** Where Terraform keeps Remedy's state. */
export type StateBackend =
  /** A file, relative to the stack's folder (cdktf.out/stacks/remedy), so no absolute path is baked in. */
  | { kind: "local"; path: string }
  /** S3, encrypted, locked with S3's own lock file (Terraform ≥ 1.10) or a DynamoDB table when one is named. */
  | { kind: "s3"; bucket: string; key: string; region: string; lockTable?: string };

/** The default: terraform.remedy.tfstate at the repository root, which synth never deletes and git ignores. */
const DEFAULT_LOCAL_PATH = "../../../terraform.remedy.tfstate";
export const DEFAULT_STATE_BACKEND: StateBackend = { kind: "local", path: DEFAULT_LOCAL_PATH };

/**
 * The state of another stack of this app (remedy-member, remedy-management-account) beside the hub's: its own file
 * at the repository root, or its own key next to the hub's in S3. Workspaces (one per account) live beside it too.
 */
export function backendOf(stackName: string, backend: StateBackend = DEFAULT_STATE_BACKEND): StateBackend {
  if (backend.kind === "local") return { kind: "local", path: `../../../terraform.${stackName}.tfstate` };
  const key = backend.key.replace(/(\.tfstate)?$/, (suffix) => `.${stackName}${suffix || ".tfstate"}`);
  return { ...backend, key };
}

export function useBackend(stack: TerraformStack, backend: StateBackend): void {
  if (backend.kind === "local") {
    new LocalBackend(stack, {
      path: backend.path,
      // Beside the state file, not in the synthesized folder: `terraform workspace new` per member account.
      ...(backend.path === DEFAULT_LOCAL_PATH ? {} : { workspaceDir: `${backend.path}.d` }),
    });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: backend.key,
    region: backend.region,
    encrypt: true,
    ...(backend.lockTable ? { dynamodbTable: backend.lockTable } : {}),
  });
  // cdktf 0.21 predates S3's native state locking; Terraform ≥ 1.10 reads it from the backend block.
  if (!backend.lockTable) s3.addOverride("use_lockfile", true);
}

/**
 * The backend from the environment `npm run synth` runs in: REMEDY_TF_STATE_BUCKET (+ REMEDY_TF_STATE_REGION,
 * REMEDY_TF_STATE_KEY, optional REMEDY_TF_STATE_LOCK_TABLE) selects S3; otherwise the local default.
 */
export function stateBackendFromEnv(env: Record<string, string | undefined> = process.env): StateBackend {
  const bucket = env.REMEDY_TF_STATE_BUCKET?.trim();
  if (!bucket) return DEFAULT_STATE_BACKEND;
  const region = env.REMEDY_TF_STATE_REGION?.trim() || env.AWS_REGION?.trim();
  if (!region)
    throw new Error("REMEDY_TF_STATE_BUCKET is set: set REMEDY_TF_STATE_REGION (the state bucket's region) too");
  const lockTable = env.REMEDY_TF_STATE_LOCK_TABLE?.trim();
  return {
    kind: "s3",
    bucket,
    key: env.REMEDY_TF_STATE_KEY?.trim() || "remedy/terraform.tfstate",
    region,
    ...(lockTable ? { lockTable } : {}),
  };
}
