// One action a function sends on several resource types is granted on all of them (infra/iam.ts unionScope).
import { describe, expect, it } from "vitest";
import { unionScope } from "../../infra/iam.ts";

const DB = "arn:aws:rds:eu-west-1:111122223333:snapshot:*";
const CLUSTER = "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:*";

describe("unionScope", () => {
  it("grants every type's resources, each once", () => {
    expect(unionScope("rds:AddTagsToResource", [{ resources: [DB] }, { resources: [CLUSTER, DB] }])).toEqual({
      resources: [DB, CLUSTER],
    });
  });

  it("keeps a single type's scope as it is, and has none for no type", () => {
    const condition = { test: "StringEquals", variable: "aws:ResourceAccount", values: ["111122223333"] };
    expect(unionScope("a:B", [{ resources: [DB], conditions: [condition] }])).toEqual({
      resources: [DB],
      conditions: [condition],
    });
    expect(unionScope("a:B", [])).toBeUndefined();
  });

  it("refuses scopes whose conditions differ: one statement cannot hold both", () => {
    const condition = { test: "StringEquals", variable: "aws:ResourceAccount", values: ["111122223333"] };
    expect(() => unionScope("a:B", [{ resources: [DB], conditions: [condition] }, { resources: [CLUSTER] }])).toThrow(
      "infra/iam.ts: a:B is scoped to resource types with different conditions: split the grant",
    );
  });
});
