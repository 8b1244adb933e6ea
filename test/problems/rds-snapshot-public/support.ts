// What the public-snapshot tests share: the deployment with the rds-snapshot-public rule, its Config rule's name, the
// fixtures' ids and the rule's Config items.
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import type { ConfigItem } from "../../../detection/types.ts";
import type { DeploymentSpec } from "../../../platform/deployment.ts";
import { configItem } from "../../fixtures/load.ts";
import { deployedRules, testDeployment } from "../../remediation/support.ts";

export const RDS_RULE_ID = "rds-snapshot-public";
export const RDS_CONFIG_RULE = "remedy-rds-snapshot-public";
/** The fixtures' public DB snapshot and DB cluster snapshot, each also shared with PARTNER by id. */
export const DB_SNAPSHOT_ID = "acme-orders-nightly-2026-11-19";
export const CLUSTER_SNAPSHOT_ID = "acme-ledger-pre-migration";
export const PARTNER = "210987654321";

/** The deployed rules: the default ones and the public-snapshot rule (it takes no parameters). */
export function rulesWithRds(): DeploymentSpec["rules"] {
  return [...deployedRules(), { id: RDS_RULE_ID, configRuleName: RDS_CONFIG_RULE, parameters: {} }];
}

export function rdsDeployment(overrides: Partial<DeploymentSpec> = {}) {
  return testDeployment({ rules: rulesWithRds(), ...overrides });
}

export const DB_FOLDER = "AWS_RDS_DBSnapshot";
export const CLUSTER_FOLDER = "AWS_RDS_DBClusterSnapshot";

/** A fixture item, normalised as every path normalises it. */
export function snapshotItem(folder: string, variant: string): ConfigItem {
  return normalizeConfigItem(configItem(folder, variant));
}
