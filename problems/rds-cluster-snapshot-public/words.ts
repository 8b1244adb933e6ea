// How a public DB cluster snapshot's entry and its fix are worded: as a DB snapshot's (problems/rds-snapshot-public/
// words.ts), of its own change kind.
import { CLUSTER_SNAPSHOT } from "../rds-snapshot-public/flavor.ts";
import { snapshotWords } from "../rds-snapshot-public/words.ts";
import type { ProblemWords } from "../types.ts";

export const rdsClusterSnapshotPublicWords: ProblemWords = snapshotWords(CLUSTER_SNAPSHOT);
