// The one place AWS clients are created. No endpoints are set here on purpose: the SDK's standard
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> settings redirect them (tests and emulators rely on this).
// Clients are built lazily and reused across warm invocations.
import { CloudTrailClient } from "@aws-sdk/client-cloudtrail";
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import { EC2Client } from "@aws-sdk/client-ec2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient } from "@aws-sdk/client-kms";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { S3Client } from "@aws-sdk/client-s3";
import { S3ControlClient, type S3ControlClientConfig } from "@aws-sdk/client-s3-control";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";

/**
 * Limits on one attempt of any AWS call, so a hung connection or answer fails as a TimeoutError (transient, retried)
 * instead of holding a function until its Lambda timeout. The answer limit is well above the SQS long polls Remedy
 * asks for (1 s: peek, the coordinator); four attempts of both limits stay under the shortest timeout of a function
 * making them (60 s). The coordinator also cuts its calls at its tick's deadline (an abort signal).
 */
export const REQUEST_LIMITS = {
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  throwOnRequestTimeout: true,
} as const;

/** Standard retry mode: exponential backoff with jitter for throttling, 5xx and timeouts. */
const common = { maxAttempts: 4, retryMode: "standard", requestHandler: REQUEST_LIMITS } as const;

function lazy<T>(create: () => T): () => T {
  let instance: T | undefined;
  return () => {
    instance ??= create();
    return instance;
  };
}

// Separate exports marked pure so each function's bundle keeps only the clients it uses.
export const configServiceClient = /* @__PURE__ */ lazy(() => new ConfigServiceClient(common));
export const sqsClient = /* @__PURE__ */ lazy(() => new SQSClient(common));
export const snsClient = /* @__PURE__ */ lazy(() => new SNSClient(common));
export const ec2Client = /* @__PURE__ */ lazy(() => new EC2Client(common));
export const s3Client = /* @__PURE__ */ lazy(() => new S3Client(common));
export const s3ControlClient = /* @__PURE__ */ lazy(() => new S3ControlClient(common));
export const lambdaClient = /* @__PURE__ */ lazy(() => new LambdaClient(common));
export const ssmClient = /* @__PURE__ */ lazy(() => new SSMClient(common));
export const cloudTrailClient = /* @__PURE__ */ lazy(() => new CloudTrailClient(common));
export const eventBridgeClient = /* @__PURE__ */ lazy(() => new EventBridgeClient(common));
export const secretsManagerClient = /* @__PURE__ */ lazy(() => new SecretsManagerClient(common));
export const kmsClient = /* @__PURE__ */ lazy(() => new KMSClient(common));
export const stsClient = /* @__PURE__ */ lazy(() => new STSClient(common));
/** Organisation mode: Organizations is a global service with one endpoint (the SDK picks it from the region). */
export const organizationsClient = /* @__PURE__ */ lazy(() => new OrganizationsClient(common));

/**
 * S3 Control sent to an endpoint override as it is. S3 Control puts the account id in front of its host
 * (`<account>.s3-control.<region>.amazonaws.com`), and the SDK does the same to an override: an emulator's
 * `http://127.0.0.1:5000` becomes `http://123456789012.127.0.0.1:5000`, which is no URL. With an override (the
 * config's `endpoint`, or AWS_ENDPOINT_URL_S3_CONTROL / AWS_ENDPOINT_URL as the SDK resolves them: its Endpoint
 * parameter) every request goes to it unchanged; without one this is S3ControlClient exactly. Asked for by class
 * (sharedClient, memberClient, an undo's client) by the code that must reach S3 Control wherever the SDK is pointed.
 */
export const S3ControlAtEndpoint = /* @__PURE__ */ (() =>
  class S3ControlAtEndpoint extends S3ControlClient {
    constructor(config: S3ControlClientConfig = {}) {
      super(config);
      const resolve = this.config.endpointProvider;
      this.config.endpointProvider = (params, context) =>
        params.Endpoint ? { url: new URL(params.Endpoint) } : resolve(params, context);
    }
  })();

const shared = new Map<unknown, unknown>();

/**
 * The one client of an SDK class in this process, with the common retry settings: remediation fixes ask for their
 * clients by class (problems/fix.ts FixContext), so a bundle keeps only the clients its own fixes import.
 */
export function sharedClient<C>(Client: new (config: typeof common) => C): C {
  if (!shared.has(Client)) shared.set(Client, new Client(common));
  return shared.get(Client) as C;
}

const inRegions = new Map<unknown, Map<string, unknown>>();

/**
 * The one client of an SDK class in `region`, with the function's own credentials (organisation mode: a regional
 * copy of the rule function sends to the queues in the hub's region).
 */
export function clientInRegion<C>(Client: new (config: object) => C, region: string): C {
  let byRegion = inRegions.get(Client);
  if (!byRegion) {
    byRegion = new Map();
    inRegions.set(Client, byRegion);
  }
  if (!byRegion.has(region)) byRegion.set(region, new Client({ ...common, region }));
  return byRegion.get(region) as C;
}

/** Temporary credentials of an assumed member role (platform/member-roles.ts), in the form clients take. */
export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration?: Date;
}

/**
 * A client acting in another account (organisation mode): the member role's credentials, in the resource's region.
 * Not shared: each is built for one action's session and dropped with it.
 */
export function memberClient<C>(
  Client: new (config: object) => C,
  target: { region: string; credentials: TemporaryCredentials },
): C {
  return new Client({ ...common, region: target.region, credentials: target.credentials });
}

/** Where a CLI's clients go: a region and a named profile of the shared config files, each optional. */
export interface ClientTarget {
  region?: string;
  /** A profile in ~/.aws/config and ~/.aws/credentials (the SDK's standard chain, as AWS_PROFILE would). */
  profile?: string;
}

/**
 * Clients for one target, each built on first use. The CLI's; Lambdas use the lazy defaults above, which take their
 * region and credentials from the runtime.
 */
export function clientsFor(target: ClientTarget) {
  const config = targetConfig(target);
  return {
    configService: lazy(() => new ConfigServiceClient(config)),
    sqs: lazy(() => new SQSClient(config)),
    sns: lazy(() => new SNSClient(config)),
    ec2: lazy(() => new EC2Client(config)),
    s3: lazy(() => new S3Client(config)),
    s3Control: lazy(() => new S3ControlClient(config)),
    ssm: lazy(() => new SSMClient(config)),
    eventBridge: lazy(() => new EventBridgeClient(config)),
    secretsManager: lazy(() => new SecretsManagerClient(config)),
    kms: lazy(() => new KMSClient(config)),
    sts: lazy(() => new STSClient(config)),
  };
}

function targetConfig(target: ClientTarget) {
  return {
    ...common,
    ...(target.region ? { region: target.region } : {}),
    ...(target.profile ? { profile: target.profile } : {}),
  };
}

/**
 * Clients of any SDK class for one target, each made once on first use with clientsFor's settings: the CLI's undo
 * asks a resource type's own client by class (problems/undo-kit.ts UndoClients `client`).
 */
export function classClientsFor(target: ClientTarget): <C>(Client: new (config: object) => C) => C {
  const config = targetConfig(target);
  const made = new Map<unknown, unknown>();
  return <C>(Client: new (config: object) => C): C => {
    if (!made.has(Client)) made.set(Client, new Client(config));
    return made.get(Client) as C;
  };
}
