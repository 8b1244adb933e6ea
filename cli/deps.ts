// What CLI commands need from the outside world; tests replace any of it.
import { userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import {
  ec2Client,
  eventBridgeClient,
  kmsClient,
  s3Client,
  secretsManagerClient,
  sqsClient,
  ssmClient,
} from "../shared/clients.ts";

export interface Io {
  out(text: string): void;
  /** Progress and errors: never mixed into --json output. */
  err(text: string): void;
}

export interface CliDeps {
  sqs: () => SQSClient;
  ssm: () => SSMClient;
  s3: () => S3Client;
  ec2: () => EC2Client;
  eventBridge: () => EventBridgeClient;
  /** Verifies ledger records' MACs (undo). Absent: the real client (shared/clients.ts). */
  kms?: () => KMSClient;
  /** Reads the notifier's Slack secret (status, when given one). Absent: the real client (shared/clients.ts). */
  secretsManager?: () => SecretsManagerClient;
  now: () => Date;
  /** Who is acting, recorded with pause/resume/undo. */
  user: () => string;
  confirm: (question: string) => Promise<boolean>;
  env: Record<string, string | undefined>;
}

export function realDeps(): CliDeps {
  return {
    sqs: sqsClient,
    ssm: ssmClient,
    s3: s3Client,
    ec2: ec2Client,
    eventBridge: eventBridgeClient,
    kms: kmsClient,
    secretsManager: secretsManagerClient,
    now: () => new Date(),
    user: () => process.env.REMEDY_OPERATOR ?? userInfo().username,
    async confirm(question) {
      if (!process.stdin.isTTY) return false;
      const readline = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await readline.question(`${question} [y/N] `)).trim());
      } finally {
        readline.close();
      }
    },
    env: process.env,
  };
}
