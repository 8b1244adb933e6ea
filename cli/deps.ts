// What CLI commands need from the outside world; tests replace any of it.
//
// Loading the AWS SDK takes over a second (client-ec2 alone most of one, on a small machine), and most invocations
// need none of it: help, --version, usage errors, an offline plan. So nothing here imports the SDK (the client types
// below are erased): a command is given its local dependencies (CommandDeps), and asks for the AWS ones with
// aws(target) once it knows it will call AWS (openStack in command.ts); only the real ones then load the SDK.
import { userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import type { ConfigServiceClient } from "@aws-sdk/client-config-service";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { STSClient } from "@aws-sdk/client-sts";
import type { ClientTarget, TemporaryCredentials } from "../platform/clients.ts";

export interface Io {
  out(text: string): void;
  /** Progress and errors: never mixed into --json output. */
  err(text: string): void;
  /** stderr is a terminal: progress lines are shown (in pipes and CI they are not). Absent: not a terminal. */
  interactive?: boolean;
  /** The terminal's width in columns, when stdout is one (tables fit it); absent: not a terminal. */
  columns?: number;
}

/** Who the caller's credentials are (STS GetCallerIdentity). */
export interface CallerIdentity {
  account: string;
  arn: string;
}

/** What needs no AWS. */
export interface LocalDeps {
  now: () => Date;
  /** The local user: recorded only when the AWS identity cannot be known. */
  user: () => string;
  confirm: (question: string) => Promise<boolean>;
  env: Record<string, string | undefined>;
  /** The directory the command was run in (paths the user typed are resolved against it); absent: process.cwd(). */
  cwd?: string;
}

export interface CliDeps extends LocalDeps {
  sqs: () => SQSClient;
  ssm: () => SSMClient;
  s3: () => S3Client;
  ec2: () => EC2Client;
  eventBridge: () => EventBridgeClient;
  /** Verifies ledger records' MACs (undo). */
  kms: () => KMSClient;
  /** Reads the notifier's Slack secret (status, when given one). */
  secretsManager: () => SecretsManagerClient;
  /** Config's API and the account's Block Public Access (plan --live). */
  configService: () => ConfigServiceClient;
  s3Control: () => S3ControlClient;
  /**
   * The client of any other SDK class, aimed as the ones above (undo: a resource type whose undo needs its own
   * service asks for it by class). Absent: a client of that class with the SDK's defaults (tests' fakes).
   */
  client?: <C>(Client: new (config: object) => C) => C;
  /** Publishes to the report topic (undo tells Slack what it put back). Absent: nothing is published, with a warning. */
  sns?: () => SNSClient;
  /** The caller's AWS identity, recorded as who paused, resumed or undid. Absent: `user()` is recorded. */
  callerIdentity?: () => Promise<CallerIdentity>;
  /**
   * STS with the caller's own credentials (organisation mode: undo assumes the member undo role with it). Absent:
   * the SDK's default STS client (platform/clients.ts stsClient).
   */
  sts?: () => STSClient;
  /**
   * Clients acting in a member account (organisation mode: undo), with an assumed role's credentials, in the
   * resource's region. Absent: platform/clients.ts memberClient's.
   */
  memberClients?: (target: MemberTarget) => MemberClients;
  /**
   * The same dependencies with every AWS client aimed at one region and profile (the stack's region, --profile).
   * Absent: this object as it is (tests' fakes).
   */
  at?: (target: ClientTarget) => CliDeps;
}

/** Where a member account's clients act: the resource's region, with the assumed member role's credentials. */
export interface MemberTarget {
  region: string;
  credentials: TemporaryCredentials;
}

/** What an undo reads and writes a member account's resource with (problems/undo-kit.ts UndoClients). */
export interface MemberClients {
  ec2: EC2Client;
  s3: S3Client;
  /** Any other SDK class's client in the member account. Absent: one made with the member role's credentials. */
  client?: <C>(Client: new (config: object) => C) => C;
}

/** What runCli gives a command: the local dependencies, and the AWS ones when it asks. */
export interface CommandDeps extends LocalDeps {
  /** Every dependency, the AWS clients aimed at target (see CliDeps.at). The real ones load the SDK here. */
  aws: (target: ClientTarget) => Promise<CliDeps>;
}

/** Dependencies given whole (tests' runCli(argv, io, deps)): aimed as stackFor aims them, nothing loaded. */
export function givenDeps(deps: CliDeps): CommandDeps {
  return {
    now: () => deps.now(),
    user: () => deps.user(),
    confirm: (question) => deps.confirm(question),
    get env() {
      return deps.env;
    },
    get cwd() {
      return deps.cwd;
    },
    aws: async (target) => deps.at?.(target) ?? deps,
  };
}

/**
 * What the process gives a command line: its streams, environment and working directory (the process's own when
 * run as a program; tests give their own to run the same entry in process). The AWS SDK itself reads its settings
 * (endpoint, region, credentials, shared files) from process.env whatever env says.
 */
export interface Host {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Questions are asked only when it is a terminal: not one, every question is answered no. */
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: () => string;
}

/** The real dependencies: the host's environment, clock and terminal; the AWS SDK loaded on the first aws(). */
export function realDeps(host: Host = process): CommandDeps {
  const local: LocalDeps = {
    now: () => new Date(),
    user: () => host.env.REMEDY_OPERATOR ?? userInfo().username,
    async confirm(question) {
      if (!host.stdin.isTTY) return false;
      const readline = createInterface({ input: host.stdin, output: host.stderr });
      try {
        return /^y(es)?$/i.test((await readline.question(`${question} [y/N] `)).trim());
      } finally {
        readline.close();
      }
    },
    env: host.env,
    cwd: host.cwd(),
  };
  return {
    ...local,
    async aws(target) {
      const [{ classClientsFor, clientsFor, memberClient }, { GetCallerIdentityCommand }, { EC2Client }, { S3Client }] =
        await Promise.all([
          import("../platform/clients.ts"),
          import("@aws-sdk/client-sts"),
          import("@aws-sdk/client-ec2"),
          import("@aws-sdk/client-s3"),
        ]);
      const aimedAt = (next: ClientTarget): CliDeps => {
        const clients = clientsFor(next);
        return {
          ...local,
          sqs: clients.sqs,
          ssm: clients.ssm,
          s3: clients.s3,
          ec2: clients.ec2,
          eventBridge: clients.eventBridge,
          kms: clients.kms,
          secretsManager: clients.secretsManager,
          configService: clients.configService,
          s3Control: clients.s3Control,
          client: classClientsFor(next),
          sns: clients.sns,
          async callerIdentity() {
            const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
            return { account: identity.Account ?? "", arn: identity.Arn ?? "" };
          },
          // The operator's own credentials (--profile, else the chain) assume the member role.
          sts: clients.sts,
          memberClients: (member) => ({
            ec2: memberClient(EC2Client, member),
            s3: memberClient(S3Client, member),
            client: (Client) => memberClient(Client, member),
          }),
          at: aimedAt,
        };
      };
      return aimedAt(target);
    },
  };
}
