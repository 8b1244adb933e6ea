// The organisation of test/e2e/organization-moto.test.ts, in moto's multi-account mode: a hub and three member
// accounts of one AWS Organization, each with resources in two regions, and the hub stack synthesized in
// organisation mode from a settings file (test/fixtures/organization/remedy.organization.template.json, filled with
// the ids moto gave the accounts and the OU) and created in moto (test/e2e/moto-stack.ts). Then the real Lambda
// handlers, each with the environment the stack gives it, as Lambda would run them:
//
// - the hub is moto's default account 123456789012, which also made the organisation (its management account). In
//   AWS the hub is a delegated administrator, a member account; nothing here depends on which it is: the functions
//   read the organisation with the hub's credentials (ListAccounts, ListParents), as a delegated administrator may.
// - members are made with CreateAccount (moto picks their ids); the test's own setup reaches them through STS
//   AssumeRole of OrganizationAccountAccessRole (the role Organizations creates in a new account). moto enforces
//   no trust policy and creates no role: what is proved here is which role each function asks for, in which
//   account, with which session name, and that what it then does lands in that account and region only.
// - the rule function runs once per region, as the stack deploys it: the hub region's function and its copy in
//   the other region (`config_rule_<region>`, whose environment names its region), each in its own module graph
//   (vi.resetModules: the handler reads its settings when imported) and with AWS_REGION set to its region, as
//   Lambda sets it. Config's side (PutEvaluations) is a moto gap outside TestMode: stubbed on the SDK's
//   ConfigServiceClient class, so every client (the hub's or a member's, whatever credentials) is caught, and
//   each call is traced back to the account and role of the credentials it was signed with.
// - the coordinator's Lambda Invoke goes to a stand-in that records the payloads; each is then run by its
//   remediation handler. Reports reach the notifier through an SQS queue subscribed to the report topic; the
//   notifier reads the Slack routes from moto's Secrets Manager and posts to a local stand-in for Slack (fetch to
//   https://hooks.slack.com/ is sent there, same path: each route's webhook has its own path).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Evaluation, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketAclCommand,
  type Grant,
  PutBucketAclCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { expect, vi } from "vitest";
import type { Instruction } from "../../contract/instruction.ts";
import { parseReport, type Report } from "../../contract/report.ts";
import type { Problem } from "../../detection/types.ts";
import { kmsClient } from "../../platform/clients.ts";
import { deployedRuleFor, readDeployment } from "../../platform/deployment.ts";
import { type OrganizationSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import type { ConfigScope } from "../../problems/example.ts";
import { changeEvent } from "../fixtures/events.ts";
import { kmsKeyArnsAsAws, MOTO_ACCOUNT_ID, MOTO_REGION, type Moto } from "../helpers/moto.ts";
import { type FakeSlack, fakeSlack } from "../notifier/helpers.ts";
import { deployedHandler } from "../support/remediate.ts";
import {
  type Deployed,
  deployToMoto,
  functionEnv,
  type Invocation,
  type LambdaStandIn,
  lambdaStandIn,
  withEnv,
} from "./moto-stack.ts";

export const HUB = MOTO_ACCOUNT_ID;
/** The hub's home region (the stack's `region`), one of the two the organisation is served in. */
export const HUB_REGION = MOTO_REGION;
export const OTHER_REGION = "us-east-1";
export const REGIONS = [HUB_REGION, OTHER_REGION] as const;
export type Region = (typeof REGIONS)[number];
/** An account that is not the organisation's (moto makes any account it is asked about). */
export const OUTSIDER = "444455556666";

const TEMPLATE = new URL("../fixtures/organization/remedy.organization.template.json", import.meta.url);

const SLACK_HOST = "https://hooks.slack.com/";
/** The Slack secret's routes: the default and one named route per member (the settings' `slackRoute`s). */
export const SLACK = {
  default: { webhookUrl: `${SLACK_HOST}services/T0ORG0001/B0DEFAULT1/defaultwebhooksecret`, channel: "#remedy" },
  routes: {
    "prod-security": {
      webhookUrl: `${SLACK_HOST}services/T0ORG0001/B0PRODSEC1/prodwebhooksecret`,
      channel: "#prod-sec",
    },
    payments: { webhookUrl: `${SLACK_HOST}services/T0ORG0001/B0PAYMENT1/paymentswebhooksecret`, channel: "#payments" },
    sandbox: { webhookUrl: `${SLACK_HOST}services/T0ORG0001/B0SANDBOX1/sandboxwebhooksecret`, channel: "#sandbox" },
  },
} as const;
export type RouteName = keyof typeof SLACK.routes | "default";

/** The path a route's messages are posted to (what the Slack stand-in records). */
export const routePath = (route: RouteName) =>
  new URL(route === "default" ? SLACK.default.webhookUrl : SLACK.routes[route].webhookUrl).pathname;

// ---------------------------------------------------------------------------------------------------------------
// The organisation.

export interface Organization {
  id: string;
  rootId: string;
  /** The OU whose settings say enforce. */
  prodOu: string;
  /** In the prod OU: enforce, Slack route prod-security (from the OU). */
  enforce: string;
  /** Its own entry: notify, route payments. */
  notify: string;
  /** Its own entry: off (route sandbox, which nothing may ever use). */
  off: string;
}

/** The organisation in moto: made by the hub (so it is the management account), three accounts, one in an OU. */
export async function createOrganization(moto: Moto): Promise<Organization> {
  const organizations = new OrganizationsClient(moto.clientConfig);
  const { Organization } = await organizations.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const { Roots = [] } = await organizations.send(new ListRootsCommand({}));
  const rootId = Roots[0]!.Id!;
  const { OrganizationalUnit } = await organizations.send(
    new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: "prod" }),
  );
  const account = async (name: string) => {
    const { CreateAccountStatus } = await organizations.send(
      new CreateAccountCommand({ AccountName: `remedy-e2e-${name}`, Email: `${name}@remedy-e2e.example.com` }),
    );
    expect(CreateAccountStatus?.State, `account ${name}`).toBe("SUCCEEDED");
    return CreateAccountStatus!.AccountId!;
  };
  const enforce = await account("enforce");
  const notify = await account("notify");
  const off = await account("off");
  await organizations.send(
    new MoveAccountCommand({
      AccountId: enforce,
      SourceParentId: rootId,
      DestinationParentId: OrganizationalUnit!.Id!,
    }),
  );
  return { id: Organization!.Id!, rootId, prodOu: OrganizationalUnit!.Id!, enforce, notify, off };
}

/** The settings file of this organisation: the fixture with moto's ids in it, written where the synth reads it. */
export function writeSettingsFile(org: Organization, dir: string): { file: string; settings: OrganizationSettings } {
  const text = readFileSync(TEMPLATE, "utf8")
    .replaceAll("{{PROD_OU}}", org.prodOu)
    .replaceAll("{{NOTIFY_ACCOUNT}}", org.notify)
    .replaceAll("{{OFF_ACCOUNT}}", org.off);
  expect(text, "every placeholder filled").not.toMatch(/\{\{/);
  const file = join(dir, "remedy.organization.json");
  writeFileSync(file, text);
  return { file, settings: parseOrganizationSettings(JSON.parse(text)) };
}

// ---------------------------------------------------------------------------------------------------------------
// The test's own access to each account (setup and read-back), never the code under test's.

export interface AccountClients {
  accountId: string;
  region: string;
  ec2: EC2Client;
  s3: S3Client;
}

/** Clients in `accountId` and `region`: the hub's own keys, or a member's through OrganizationAccountAccessRole. */
export function accountAccess(moto: Moto) {
  const credentials = new Map<
    string,
    Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>
  >();
  const sts = new STSClient(moto.clientConfig);
  const credentialsOf = (accountId: string) => {
    let pending = credentials.get(accountId);
    if (!pending) {
      pending = sts
        .send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
            RoleSessionName: "remedy-e2e-setup",
          }),
        )
        .then(({ Credentials }) => ({
          accessKeyId: Credentials!.AccessKeyId!,
          secretAccessKey: Credentials!.SecretAccessKey!,
          sessionToken: Credentials!.SessionToken!,
        }));
      credentials.set(accountId, pending);
    }
    return pending;
  };
  return async (accountId: string, region: string): Promise<AccountClients> => {
    const config = {
      ...moto.clientConfig,
      region,
      maxAttempts: 2,
      ...(accountId === HUB ? {} : { credentials: await credentialsOf(accountId) }),
    };
    return { accountId, region, ec2: new EC2Client(config), s3: new S3Client(config) };
  };
}

/** The group every account has in every region: SSH open to the world (a violation) and HTTPS (authorized). */
export const OPEN_SSH: IpPermission = {
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  IpRanges: [
    { CidrIp: "0.0.0.0/0", Description: "ssh from anywhere" },
    { CidrIp: "10.0.0.0/8", Description: "ssh from the office" },
  ],
};
export const HTTPS: IpPermission = {
  IpProtocol: "tcp",
  FromPort: 443,
  ToPort: 443,
  IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "https" }],
};

export async function createOpenGroup(at: AccountClients, name: string): Promise<string> {
  const { GroupId } = await at.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} (organisation e2e)` }),
  );
  for (const permission of [OPEN_SSH, HTTPS]) {
    await at.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [permission] }));
  }
  return GroupId!;
}

/** A group's ingress rules as its owner sees them (ids left out: re-adding a rule gives it a new one). */
export async function ingressOf(at: AccountClients, groupId: string): Promise<string[]> {
  const { SecurityGroupRules = [] } = await at.ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return SecurityGroupRules.filter((rule: SecurityGroupRule) => !rule.IsEgress)
    .map((rule) => `${rule.IpProtocol} ${rule.FromPort} ${rule.CidrIpv4 ?? rule.CidrIpv6} ${rule.Description ?? ""}`)
    .sort();
}

export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const grantKey = (grant: Grant) => `${grant.Grantee?.URI ?? grant.Grantee?.ID}:${grant.Permission}`;

/** A bucket with ACLs enabled whose ACL also lets everyone read it (a violation). */
export async function createPublicBucket(at: AccountClients, name: string): Promise<void> {
  await at.s3.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(at.region === "us-east-1"
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: at.region as BucketLocationConstraint } }),
      ObjectOwnership: "BucketOwnerPreferred",
    }),
  );
  const { Owner } = await at.s3.send(new GetBucketAclCommand({ Bucket: name }));
  await at.s3.send(
    new PutBucketAclCommand({
      Bucket: name,
      AccessControlPolicy: {
        Owner,
        Grants: [
          { Grantee: { Type: "CanonicalUser", ID: Owner?.ID }, Permission: "FULL_CONTROL" },
          { Grantee: { Type: "Group", URI: ALL_USERS }, Permission: "READ" },
        ],
      },
    }),
  );
}

export async function grantsOf(at: AccountClients, bucket: string): Promise<string[]> {
  const { Grants = [] } = await at.s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  return Grants.map(grantKey).sort();
}

// ---------------------------------------------------------------------------------------------------------------
// The deployed hub.

export interface OrgWorld extends Deployed {
  org: Organization;
  settings: OrganizationSettings;
  dir: string;
  lambda: LambdaStandIn;
  slack: FakeSlack;
  tapQueueUrl: string;
  tapSubscriptionArn: string;
  access: ReturnType<typeof accountAccess>;
  handlers: Handlers;
}

interface Handlers {
  rule: Record<Region, (event: unknown) => Promise<unknown>>;
  coordinator: (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<TickSummary>;
  remediation: Record<string, (payload: unknown) => Promise<RemediationOutcome>>;
  notifier: (event: unknown, context: { invokedFunctionArn: string }) => Promise<unknown>;
}

/** What the coordinator's handler answers (functions/coordinator/tick.ts CoordinatorSummary), as far as read here. */
export type TickSummary = Record<string, number | boolean>;
/** What a remediation answers (functions/remediation/runner.ts RemediationResult), as far as read here. */
export type RemediationOutcome = { status: string; actionId?: string; reason?: string; messageDeleted?: boolean };

/** The stack's resource id of the rule function in `region`: the original in the hub region, else its copy. */
const ruleFunctionId = (region: Region) =>
  region === HUB_REGION ? "config_rule" : `config_rule_${region.replaceAll("-", "_")}`;

/** A function's environment as Lambda gives it: the stack's variables, AWS_REGION its region, moto's endpoint. */
export function lambdaEnv(
  w: Pick<OrgWorld, "moto" | "tf" | "stack">,
  resourceId: string,
  region: string = HUB_REGION,
): Record<string, string> {
  return {
    ...w.moto.env,
    ...functionEnv(w.tf, w.stack.refs, resourceId),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
}

/**
 * Everything the test needs: the organisation and its settings file, the stack synthesized from it and created in
 * moto with `variables` (remedy.auto.tfvars), the Slack secret with its routes, the stand-ins, the handlers loaded.
 */
export async function setUpWorld(moto: Moto, variables: Record<string, string>): Promise<OrgWorld> {
  const org = await createOrganization(moto);
  const dir = mkdtempSync(join(tmpdir(), "remedy-org-e2e-"));
  const { file, settings } = writeSettingsFile(org, dir);

  const lambda = await lambdaStandIn();
  const slack = await fakeSlack();
  // The notifier accepts only Slack's hosts: requests to https://hooks.slack.com/ reach the stand-in, same path.
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (url: string | URL | Request, init?: RequestInit) => {
    const target = String(url instanceof Request ? url.url : url);
    return realFetch(target.startsWith(SLACK_HOST) ? `${slack.url}/${target.slice(SLACK_HOST.length)}` : target, init);
  });

  // The operator's Slack secret (not part of the stack: its ARN is the slack_secret variable).
  const { ARN: secretArn } = await new SecretsManagerClient(moto.clientConfig).send(
    new CreateSecretCommand({ Name: "remedy/slack-org-e2e", SecretString: JSON.stringify(SLACK) }),
  );
  const deployed = await deployToMoto(
    moto,
    { mode: "organization", slack_secret: secretArn!, ...variables },
    { organizationFile: file },
  );

  const { QueueUrl: tapQueueUrl } = await deployed.clients.sqs.send(
    new CreateQueueCommand({ QueueName: "remedy-org-e2e-report-tap" }),
  );
  const { Attributes } = await deployed.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: tapQueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const { SubscriptionArn } = await deployed.clients.sns.send(
    new SubscribeCommand({ TopicArn: deployed.stack.reportTopicArn, Protocol: "sqs", Endpoint: Attributes!.QueueArn }),
  );

  const world = {
    ...deployed,
    org,
    settings,
    dir,
    lambda,
    slack,
    tapQueueUrl: tapQueueUrl!,
    tapSubscriptionArn: SubscriptionArn!,
    access: accountAccess(moto),
  };
  return { ...world, handlers: await loadHandlers(world) };
}

/**
 * Each handler imported (and so configured) under its own environment, once, as a Lambda container would: the hub's
 * functions and the hub region's rule function share one module graph; the other region's rule function gets its own
 * (its handler reads REMEDY_REGION and builds its clients in its region).
 */
async function loadHandlers(w: Omit<OrgWorld, "handlers">): Promise<Handlers> {
  const coordinator = await withEnv(lambdaEnv(w, "coordinator"), async () => {
    const { handler } = await import("../../functions/coordinator/handler.ts");
    return handler as unknown as Handlers["coordinator"];
  });
  const notifier = await withEnv(lambdaEnv(w, "notifier"), async () => {
    const { handler } = await import("../../functions/notifier/handler.ts");
    return handler as Handlers["notifier"];
  });
  const remediation: Handlers["remediation"] = {};
  for (const [id, name] of [
    ["remediate_sg", "remediate-sg"],
    ["remediate_s3", "remediate-s3"],
  ] as const) {
    const functionName = w.stack.refs.values.get(`aws_lambda_function.${id}.function_name`)!;
    const env = lambdaEnv(w, id);
    const { handler } = await withEnv(env, () => deployedHandler(name));
    remediation[functionName] = (payload) =>
      withEnv(env, async () => {
        // moto gap: GenerateMac answers a bare key id (test/helpers/moto.ts); on the client the handlers share.
        kmsKeyArnsAsAws(kmsClient());
        return (await handler(payload)) as RemediationOutcome;
      });
  }
  const rule = {} as Handlers["rule"];
  for (const region of REGIONS) {
    // A module graph of its own per region (the first is the hub's, shared with the functions above).
    if (region !== HUB_REGION) vi.resetModules();
    rule[region] = await withEnv(lambdaEnv(w, ruleFunctionId(region), region), async () => {
      const { handler } = await import("../../functions/config-rule/handler.ts");
      return handler as (event: unknown) => Promise<unknown>;
    });
  }
  return { rule, coordinator, remediation, notifier };
}

// ---------------------------------------------------------------------------------------------------------------
// Config → the rule function of the item's region.

/** Config's per-account name of an organisation rule: OrgConfigRule-<name>-<8 lowercase alphanumerics>. */
export function memberRuleName(configRuleName: string, scope: ConfigScope): string {
  const suffix = createHash("sha256").update(`${configRuleName}/${scope.accountId}/${scope.region}`).digest("hex");
  return `OrgConfigRule-${configRuleName}-${suffix.slice(0, 8)}`;
}

/** The result token Config would give this evaluation in that account (opaque; the test can tell whose it is). */
export const resultTokenFor = (scope: ConfigScope, resourceId: string) =>
  Buffer.from(`remedy-e2e:${scope.accountId}:${scope.region}:${resourceId}`).toString("base64");

/**
 * The invocation Config sends the hub's rule function for a change in a member account: the organisation rule as
 * the member account has it (its name, its service-linked ARN in that account and region), the member's account id,
 * its result token, the deployed parameters, the item recorded there.
 */
export function memberChangeEvent(
  w: Pick<OrgWorld, "moto" | "tf" | "stack">,
  item: Record<string, unknown>,
  problem: Problem,
  scope: ConfigScope,
): Record<string, unknown> {
  const deployed = deployedRuleFor(readDeployment(lambdaEnv(w, "config_rule")), problem);
  if (!deployed) throw new Error(`no deployed rule finds ${problem}`);
  const ruleId = `config-rule-${createHash("sha256").update(memberRuleName(deployed.configRuleName, scope)).digest("hex").slice(0, 6)}`;
  return {
    ...changeEvent(item, {
      configRuleName: memberRuleName(deployed.configRuleName, scope),
      parameters: deployed.rawParameters,
    }),
    accountId: scope.accountId,
    configRuleId: ruleId,
    configRuleArn: `arn:aws:config:${scope.region}:${scope.accountId}:config-rule/aws-service-rule/config-multiaccountsetup.amazonaws.com/${ruleId}`,
    executionRoleArn: `arn:aws:iam::${scope.accountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
    resultToken: resultTokenFor(scope, String(item.resourceId)),
  };
}

/** One PutEvaluations the rule sent, with where it went: the account and role of its credentials, its region. */
export interface Reported {
  account: string;
  /** The caller of the credentials it was signed with (GetCallerIdentity's Arn). */
  caller: string;
  region: string;
  resultToken: string | undefined;
  evaluations: Evaluation[];
}

/**
 * Invokes the rule function of `region` with `event`, as Config would. Config's PutEvaluations answers as Config does
 * (stubbed: a moto gap); every other Config call answers nothing (no verdict held), so every verdict is sent.
 */
export async function ruleRun(
  w: OrgWorld,
  region: Region,
  event: unknown,
): Promise<{ result: Record<string, unknown>; reported: Reported[] }> {
  return withEnv(lambdaEnv(w, ruleFunctionId(region), region), async () => {
    const { ConfigServiceClient } = await import("@aws-sdk/client-config-service");
    const config = mockClient(ConfigServiceClient);
    config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    try {
      const result = (await w.handlers.rule[region](event)) as Record<string, unknown>;
      const reported: Reported[] = [];
      for (const call of config.commandCalls(PutEvaluationsCommand)) {
        const client = call.thisValue as InstanceType<typeof ConfigServiceClient>;
        const identity = await callerOf(w.moto, await client.config.credentials());
        reported.push({
          account: identity.account,
          caller: identity.arn,
          region: await client.config.region(),
          resultToken: call.args[0].input.ResultToken,
          evaluations: call.args[0].input.Evaluations ?? [],
        });
      }
      return { result, reported };
    } finally {
      config.restore();
    }
  });
}

/** Whose credentials these are, as STS (moto) says: moto maps an access key to its account and assumed role. */
export async function callerOf(
  moto: Moto,
  credentials: { accessKeyId: string; secretAccessKey?: string; sessionToken?: string },
): Promise<{ account: string; arn: string }> {
  const sts = new STSClient({
    ...moto.clientConfig,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      // moto checks no signature: the key alone says whose the request is (a recorded request has no secret).
      secretAccessKey: credentials.secretAccessKey ?? "unused",
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
  });
  const { Account, Arn } = await sts.send(new GetCallerIdentityCommand({}));
  return { account: Account!, arn: Arn! };
}

// ---------------------------------------------------------------------------------------------------------------
// The coordinator, the remediations, the notifier.

/** One scheduled coordinator tick (its Lambda client talks to the Invoke stand-in). */
export async function coordinatorTick(w: OrgWorld): Promise<TickSummary> {
  const scheduled = {
    version: "0",
    id: "5c3f7a2e-0000-4000-8000-0000000e2e0c",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: HUB,
    time: new Date().toISOString(),
    region: HUB_REGION,
    resources: [w.stack.refs.values.get("aws_cloudwatch_event_rule.schedule.arn")],
    detail: {},
  };
  return withEnv({ ...lambdaEnv(w, "coordinator"), AWS_ENDPOINT_URL_LAMBDA: w.lambda.url }, () =>
    w.handlers.coordinator(scheduled, { getRemainingTimeInMillis: () => 55_000 }),
  );
}

/** Lambda running one asynchronous invoke the coordinator made: the remediation function it names. */
export async function runInvocation(w: OrgWorld, invocation: Invocation): Promise<RemediationOutcome> {
  const handler = w.handlers.remediation[invocation.functionName];
  if (!handler) throw new Error(`the coordinator invoked ${invocation.functionName}: not a remediation function`);
  return handler(invocation.payload);
}

export const instructionOf = (invocation: Invocation) =>
  (invocation.payload as { instruction: Instruction }).instruction;

/** Receives and deletes every message of a queue until it stays empty (moto delivers SNS to SQS as it publishes). */
export async function drain(w: Deployed, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let emptyReads = 0; emptyReads < 2; ) {
    const { Messages = [] } = await w.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) emptyReads++;
    for (const message of Messages) {
      bodies.push(message.Body ?? "");
      await w.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return bodies;
}

/** What SNS hands a subscribed Lambda for one notification, from the SQS copy of it. */
function lambdaSnsEvent(notification: Record<string, unknown>, subscriptionArn: string) {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: notification.Type,
          MessageId: notification.MessageId,
          TopicArn: notification.TopicArn,
          Subject: notification.Subject ?? null,
          Message: notification.Message,
          Timestamp: notification.Timestamp,
          SignatureVersion: notification.SignatureVersion,
          Signature: notification.Signature,
          SigningCertUrl: notification.SigningCertURL,
          UnsubscribeUrl: notification.UnsubscribeURL,
          MessageAttributes: notification.MessageAttributes ?? {},
        },
      },
    ],
  };
}

/**
 * Every report published since the last call, each handed to the notifier as SNS delivers it (one per invocation);
 * returns the reports and what the notifier answered for each.
 */
export async function deliverReports(w: OrgWorld): Promise<{ report: Report; result: unknown }[]> {
  const delivered: { report: Report; result: unknown }[] = [];
  for (const body of await drain(w, w.tapQueueUrl)) {
    const notification = JSON.parse(body) as Record<string, unknown>;
    expect(notification).toMatchObject({ Type: "Notification", TopicArn: w.stack.reportTopicArn });
    const report = parseReport(JSON.parse(String(notification.Message)));
    const arn = w.stack.refs.values.get("aws_lambda_function.notifier.arn")!;
    const result = await withEnv(lambdaEnv(w, "notifier"), () =>
      w.handlers.notifier(lambdaSnsEvent(notification, w.tapSubscriptionArn), { invokedFunctionArn: arn }),
    );
    delivered.push({ report, result });
  }
  return delivered;
}

// ---------------------------------------------------------------------------------------------------------------
// moto's request recorder: what reached AWS, and with whose credentials.

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A query-protocol request's parameters (STS, EC2), from its form body. */
  params: URLSearchParams;
  /** From the SigV4 Authorization header: the access key and the region the request was signed for. */
  accessKeyId: string | undefined;
  signedRegion: string | undefined;
  service: string | undefined;
}

async function recorder(moto: Moto, path: string, method = "POST"): Promise<string> {
  const response = await fetch(`${moto.endpoint}/moto-api/recorder/${path}`, { method });
  expect(response.status, `moto recorder ${path}`).toBe(200);
  return response.text();
}

/** Every request moto received while `run` ran. */
export async function recordDuring<T>(
  moto: Moto,
  run: () => Promise<T>,
): Promise<{ value: T; requests: RecordedRequest[] }> {
  await recorder(moto, "reset-recording");
  await recorder(moto, "start-recording");
  let value: T;
  try {
    value = await run();
  } finally {
    await recorder(moto, "stop-recording");
  }
  const requests = (await recorder(moto, "download-recording", "GET"))
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const entry = JSON.parse(line) as {
        method: string;
        url: string;
        headers: Record<string, string>;
        body?: string | null;
        body_encoded?: boolean;
      };
      const body = entry.body_encoded ? Buffer.from(entry.body ?? "", "base64").toString("utf8") : (entry.body ?? "");
      const authorization = Object.entries(entry.headers).find(([name]) => name.toLowerCase() === "authorization")?.[1];
      const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? "");
      return {
        method: entry.method,
        url: entry.url,
        headers: entry.headers,
        body,
        params: new URLSearchParams(body),
        accessKeyId: scope?.[1],
        signedRegion: scope?.[2],
        service: scope?.[3],
      };
    });
  return { value, requests };
}

/** The AssumeRole calls among recorded requests, as their parameters. */
export const assumeRoleCalls = (requests: readonly RecordedRequest[]) =>
  requests
    .filter((request) => request.service === "sts" && request.params.get("Action") === "AssumeRole")
    .map((request) => Object.fromEntries(request.params));
