// Organisation mode's core: which settings apply to an account, whether an account is the organisation's, which
// member role is assumed and how, and the deployment refusing any account whose standing was not checked.
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  deployedRegions,
  deployedRuleNamed,
  deploymentFrom,
  readDeployment,
  targetProblem,
} from "../../platform/deployment.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { assumeMemberRole, memberRoleArn, sessionNameFor } from "../../platform/member-roles.ts";
import {
  type AccountStanding,
  accountSettings,
  notifyOnly,
  organizationsDirectory,
  parseOrganizationSettings,
  standingProblem,
} from "../../platform/organization.ts";
import { PROBLEMS } from "../../problems/index.ts";
import { testInstruction } from "../support/instructions.ts";

const HUB = "111111111111";
const MEMBER = "222222222222";
const OTHER = "333333333333";
const OU_PARENT = "ou-ab12-11111111";
const OU_CHILD = "ou-ab12-22222222";

const settings = parseOrganizationSettings({
  regions: ["us-east-1", "eu-west-1"],
  excludedAccounts: ["444444444444"],
  default: { mode: "enforce", gracePeriodMinutes: 5 },
  organizationalUnits: {
    [OU_PARENT]: { mode: "notify", problems: ["sg-open-ingress"], slackRoute: "platform" },
    [OU_CHILD]: { gracePeriodMinutes: 30 },
  },
  accounts: { [OTHER]: { mode: "off" } },
});

describe("parseOrganizationSettings", () => {
  it("fills what is not given", () => {
    expect(parseOrganizationSettings({ regions: ["us-east-1"] })).toEqual({
      regions: ["us-east-1"],
      excludedAccounts: [],
      default: {},
      organizationalUnits: {},
      accounts: {},
    });
  });

  it.each([
    [{}, /regions/],
    [{ regions: [] }, /regions: must name at least one region/],
    [{ regions: ["us-east-1", "us-east-1"] }, /lists a region twice/],
    [{ regions: ["moon-1"] }, /regions\.0: must be an AWS region/],
    [{ regions: ["us-east-1"], default: { mode: "fix" } }, /default\.mode/],
    [{ regions: ["us-east-1"], accounts: { "12": {} } }, /accounts\.12: must be a 12-digit account id/],
    [{ regions: ["us-east-1"], organizationalUnits: { "r-ab12": {} } }, /must be an OU id/],
    [{ regions: ["us-east-1"], default: { problems: ["sg-open"] } }, /default\.problems\.0/],
    [{ regions: ["us-east-1"], default: { gracePeriodMinutes: -1 } }, /gracePeriodMinutes/],
    [{ regions: ["us-east-1"], default: { slackRoute: "https://hooks.slack.com/x" } }, /route name/],
    [{ regions: ["us-east-1"], default: { modes: "off" } }, /default/],
    [{ regions: ["us-east-1"], externalId: "a" }, /externalId/],
    [{ regions: ["us-east-1"], excludedAccounts: [MEMBER], accounts: { [MEMBER]: { mode: "off" } } }, /which is meant/],
  ])("refuses %j naming the field", (value, message) => {
    expect(() => parseOrganizationSettings(value, "remedy.organization.json")).toThrow(ConfigurationError);
    expect(() => parseOrganizationSettings(value, "remedy.organization.json")).toThrow(message);
  });
});

describe("accountSettings: default, then OUs from the root down, then the account", () => {
  it("an account in no OU with settings has the defaults", () => {
    expect(accountSettings(settings, MEMBER, [])).toEqual({
      mode: "enforce",
      problems: new Set(PROBLEMS),
      gracePeriodMinutes: 5,
      sources: ["default"],
    });
  });

  it("each level overrides only what it sets", () => {
    expect(accountSettings(settings, MEMBER, [OU_PARENT, OU_CHILD])).toEqual({
      mode: "notify",
      problems: new Set(["sg-open-ingress"]),
      gracePeriodMinutes: 30,
      slackRoute: "platform",
      sources: ["default", OU_PARENT, OU_CHILD],
    });
    expect(accountSettings(settings, OTHER, [OU_PARENT])).toMatchObject({
      mode: "off",
      sources: ["default", OU_PARENT, "account"],
    });
  });

  it("nothing set anywhere: told, not changed", () => {
    expect(accountSettings(parseOrganizationSettings({ regions: ["us-east-1"] }), MEMBER, []).mode).toBe("notify");
  });
});

describe("standingProblem", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const member = (mode: "enforce" | "notify" | "off", grace = 0): AccountStanding => ({
    member: true,
    accountId: MEMBER,
    parents: [],
    settings: { mode, problems: new Set(["sg-open-ingress"]), gracePeriodMinutes: grace, sources: ["default"] },
  });
  const instruction = { problem: "sg-open-ingress" as const, detectedAt: "2026-12-01T11:50:00Z" };

  it("acts on an enforcing or notifying member's enabled problem once its grace period is over", () => {
    expect(standingProblem(member("enforce"), instruction, now)).toBeUndefined();
    expect(standingProblem(member("notify"), instruction, now)).toBeUndefined();
    expect(notifyOnly(member("notify"))).toBe(true);
    expect(notifyOnly(member("enforce"))).toBe(false);
    expect(standingProblem(member("enforce", 10), instruction, now)).toBeUndefined();
  });

  it("refuses off, a problem not enabled, a grace period not over, and a non-member", () => {
    expect(standingProblem(member("off"), instruction, now)).toMatch(/is off/);
    expect(standingProblem(member("enforce"), { ...instruction, problem: "s3-public-acl" }, now)).toMatch(
      /not enabled for account 222222222222/,
    );
    expect(standingProblem(member("enforce", 11), instruction, now)).toMatch(/not due until 2026-12-01T12:01:00/);
    expect(standingProblem({ member: false, accountId: OTHER, reason: "not ours" }, instruction, now)).toBe("not ours");
  });
});

describe("organizationsDirectory", () => {
  const organizations = mockClient(OrganizationsClient);
  let clock = 0;
  const directory = () => organizationsDirectory(organizations as never, settings, { ttlMs: 60_000, now: () => clock });

  beforeEach(() => {
    organizations.reset();
    clock = 0;
    organizations
      .on(ListAccountsCommand)
      .resolvesOnce({
        Accounts: [
          { Id: HUB, Status: "ACTIVE" },
          { Id: MEMBER, Status: "ACTIVE" },
        ],
        NextToken: "page-2",
      })
      .resolves({
        Accounts: [{ Id: OTHER, State: "SUSPENDED" } as never, { Id: "444444444444", Status: "ACTIVE" }],
      });
    organizations
      .on(ListParentsCommand, { ChildId: MEMBER })
      .resolves({ Parents: [{ Id: OU_CHILD, Type: "ORGANIZATIONAL_UNIT" }] })
      .on(ListParentsCommand, { ChildId: OU_CHILD })
      .resolves({ Parents: [{ Id: OU_PARENT, Type: "ORGANIZATIONAL_UNIT" }] })
      .on(ListParentsCommand, { ChildId: OU_PARENT })
      .resolves({ Parents: [{ Id: "r-ab12", Type: "ROOT" }] });
  });

  it("a member's OU path from the root down gives its settings; every page of accounts is read", async () => {
    const standing = await directory().standing(MEMBER);
    expect(standing).toMatchObject({ member: true, parents: [OU_PARENT, OU_CHILD] });
    expect(standing.member && standing.settings.mode).toBe("notify");
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
  });

  it("refuses an account outside the organisation, a suspended one, an excluded one and a malformed id", async () => {
    const reading = directory();
    expect(await reading.standing("999999999999")).toMatchObject({
      member: false,
      reason: expect.stringMatching(/not an account of this organisation/),
    });
    expect(await reading.standing(OTHER)).toMatchObject({
      member: false,
      reason: expect.stringMatching(/is suspended/),
    });
    expect(await reading.standing("444444444444")).toMatchObject({
      member: false,
      reason: expect.stringMatching(/excluded/),
    });
    expect(await reading.standing("12345")).toMatchObject({
      member: false,
      reason: expect.stringMatching(/not an account id/),
    });
  });

  it("reads the organisation once per ttl, and again after it", async () => {
    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ Id: MEMBER, Status: "ACTIVE" }] });
    const reading = directory();
    await reading.standing(MEMBER);
    clock = 60_000;
    await reading.standing(MEMBER);
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 1);
    expect(organizations).toHaveReceivedCommandTimes(ListParentsCommand, 3);
    clock = 60_001;
    await reading.standing(MEMBER);
    expect(organizations).toHaveReceivedCommandTimes(ListAccountsCommand, 2);
    expect(organizations).toHaveReceivedCommandTimes(ListParentsCommand, 6);
  });

  it("a failed read is thrown (never a member by default) and not cached", async () => {
    organizations.reset();
    organizations
      .on(ListAccountsCommand)
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
    const reading = directory();
    await expect(reading.standing(MEMBER)).rejects.toThrow(/Rate exceeded/);
    organizations.on(ListAccountsCommand).resolves({ Accounts: [{ Id: MEMBER, Status: "ACTIVE" }] });
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: "r-ab12", Type: "ROOT" }] });
    expect(await reading.standing(MEMBER)).toMatchObject({ member: true, parents: [] });
  });
});

describe("member roles", () => {
  const sts = mockClient(STSClient);
  beforeEach(() => sts.reset());

  it("a 15-minute session named after the action, with SourceIdentity and the ExternalId when set", async () => {
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: "ASIA1", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date(0) },
    });
    const credentials = await assumeMemberRole(sts as never, {
      partition: "aws",
      accountId: MEMBER,
      role: { kind: "fix", problem: "sg-open-ingress" },
      sessionName: "act-20261201T120000Z-abc",
      externalId: "remedy-ext",
    });
    expect(credentials).toEqual({
      accessKeyId: "ASIA1",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(0),
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress`,
      RoleSessionName: "act-20261201T120000Z-abc",
      SourceIdentity: "act-20261201T120000Z-abc",
      DurationSeconds: 900,
      ExternalId: "remedy-ext",
    });
  });

  it("no ExternalId when none is set; an answer without credentials is an error", async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(
      assumeMemberRole(sts as never, {
        partition: "aws",
        accountId: MEMBER,
        role: { kind: "detect" },
        sessionName: "x1",
      }),
    ).rejects.toThrow(/remedy-member-detect in 222222222222 returned no credentials/);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).not.toHaveProperty("ExternalId");
  });

  it("role ARNs are under /remedy/; session names keep to STS's characters and length", () => {
    expect(memberRoleArn("aws-us-gov", MEMBER, { kind: "undo" })).toBe(
      `arn:aws-us-gov:iam::${MEMBER}:role/remedy/remedy-member-undo`,
    );
    expect(sessionNameFor("undo act:1/2 ü")).toBe("undo-act-1-2--");
    expect(sessionNameFor("x".repeat(80))).toHaveLength(64);
    expect(sessionNameFor("a")).toBe("remedy-a");
  });
});

describe("the deployment in organisation mode", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const deployment = deploymentFrom({
    accountId: HUB,
    region: "us-east-1",
    rules: [],
    organization: { regions: ["us-east-1", "eu-west-1"] },
  });
  const single = deploymentFrom({ accountId: HUB, region: "us-east-1", rules: [] });
  const member: AccountStanding = {
    member: true,
    accountId: MEMBER,
    parents: [],
    settings: accountSettings(deployment.organization!, MEMBER, []),
  };
  const claim = (accountId: string, region: string) =>
    testInstruction({ problem: "sg-open-ingress", accountId, region, capturedAt: "2026-12-01T11:00:00Z" });

  it("acts in a member account in a deployed region", () => {
    expect(targetProblem(claim(MEMBER, "eu-west-1"), deployment, now, member)).toBeUndefined();
    expect(deployedRegions(deployment)).toEqual(["us-east-1", "eu-west-1"]);
  });

  it("refuses an account whose standing was not checked, or was checked for another account", () => {
    expect(targetProblem(claim(MEMBER, "us-east-1"), deployment, now)).toMatch(
      /was not checked against the organisation/,
    );
    expect(targetProblem(claim(OTHER, "us-east-1"), deployment, now, member)).toMatch(/333333333333 was not checked/);
  });

  it("refuses a non-member with the directory's reason, and a region not deployed", () => {
    const outsider: AccountStanding = { member: false, accountId: OTHER, reason: "account 333333333333 is not ours" };
    expect(targetProblem(claim(OTHER, "us-east-1"), deployment, now, outsider)).toBe(
      "account 333333333333 is not ours",
    );
    expect(targetProblem(claim(MEMBER, "ap-south-1"), deployment, now, member)).toMatch(
      /region ap-south-1, but this deployment acts only in us-east-1, eu-west-1/,
    );
  });

  it("single-account mode ignores any standing: only its own account and region", () => {
    expect(targetProblem(claim(MEMBER, "us-east-1"), single, now, member)).toMatch(/acts only in account 111111111111/);
    expect(targetProblem(claim(HUB, "us-east-1"), single, now)).toBeUndefined();
    expect(deployedRegions(single)).toEqual(["us-east-1"]);
  });

  it("reads REMEDY_ORGANIZATION, empty meaning single-account; bad JSON or settings fail at cold start", () => {
    const env = { REMEDY_ACCOUNT_ID: HUB, REMEDY_REGION: "us-east-1", REMEDY_RULES: "[]" };
    expect(readDeployment({ ...env, REMEDY_ORGANIZATION: "" }).organization).toBeUndefined();
    expect(readDeployment({ ...env, REMEDY_ORGANIZATION: '{"regions":["eu-west-1"]}' }).organization?.regions).toEqual([
      "eu-west-1",
    ]);
    expect(() => readDeployment({ ...env, REMEDY_ORGANIZATION: "{" })).toThrow(/REMEDY_ORGANIZATION is not JSON/);
    expect(() => readDeployment({ ...env, REMEDY_ORGANIZATION: '{"regions":[]}' })).toThrow(
      /deployment organisation settings: regions/,
    );
  });
});

describe("rule names in member accounts", () => {
  const rules = [{ id: "sg-open-ingress", configRuleName: "remedy-sg-open-ingress" }];
  const organization = deploymentFrom({
    accountId: HUB,
    region: "us-east-1",
    rules,
    organization: { regions: ["us-east-1"] },
  });
  const single = deploymentFrom({ accountId: HUB, region: "us-east-1", rules });

  it("an organisation rule's member-account name is the deployed rule, in organisation mode only", () => {
    expect(deployedRuleNamed(organization, "OrgConfigRule-remedy-sg-open-ingress-dbgzf8ba")?.rule.id).toBe(
      "sg-open-ingress",
    );
    expect(deployedRuleNamed(organization, "remedy-sg-open-ingress")?.rule.id).toBe("sg-open-ingress");
    expect(deployedRuleNamed(single, "OrgConfigRule-remedy-sg-open-ingress-dbgzf8ba")).toBeUndefined();
  });

  it("no other prefix, suffix or near name", () => {
    for (const name of [
      "OrgConfigRule-remedy-sg-open-ingress",
      "OrgConfigRule-remedy-sg-open-ingress-DBGZF8BA",
      "OrgConfigRule-evil-remedy-sg-open-ingress-dbgzf8ba",
      "xOrgConfigRule-remedy-sg-open-ingress-dbgzf8ba",
      "OrgConfigRule-remedy-sg-open-ingress-x-dbgzf8ba",
    ]) {
      expect(deployedRuleNamed(organization, name), name).toBeUndefined();
    }
  });
});
