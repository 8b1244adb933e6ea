// The deployer's settings file: remedy.auto.tfvars at the repository root (from remedy.auto.tfvars.example) is
// copied into the synthesized stack's folder, where Terraform loads *.auto.tfvars by itself, so `terraform apply`
// and `cdktf deploy` use the same values every time without a -var that could be forgotten on the next apply.
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";

export const VARIABLES_FILE = "remedy.auto.tfvars";

/** Copies the settings file next to the stack's cdk.tf.json; returns whether there was one. */
export function installVariablesFile(sourceDir: string, stackDir: string): boolean {
  const source = join(sourceDir, VARIABLES_FILE);
  if (!existsSync(source)) return false;
  copyFileSync(source, join(stackDir, VARIABLES_FILE));
  return true;
}
