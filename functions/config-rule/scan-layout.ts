// Where a periodic scan keeps its parts in the ledger bucket: the stack expires them and lets only the Config rule
// function write there (infra/stack.ts, infra/iam.ts). No imports, so the stack can read it without the SDK.
export const SCAN_PREFIX = "scans/";

export const scanPartKey = (scanId: string, part: number) => `${SCAN_PREFIX}${scanId}/verdicts-${part}.bin`;
