// A real SQS-protocol server (local-aws-sqs) running in this process on a random free port of 127.0.0.1, with the
// remediation queue (no redrive: the coordinator counts attempts itself) and its dead-letter queue. The only place
// an SQS endpoint is set: production clients get theirs from the SDK's standard settings.
import type { AddressInfo } from "node:net";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { createSqsServer } from "local-aws-sqs";

export interface LocalSqs {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  /** A client pointed at the server; every command it sends is recorded in `commands`. */
  sqs: SQSClient;
  /** Names of the commands sent by clients from this helper, in order ("ReceiveMessageCommand", ...). */
  commands: string[];
  /** Another recording client (e.g. for a second coordinator). */
  client(): SQSClient;
  /** Messages stored (not deleted), of which visible / in flight. */
  counts(queueUrl?: string): Promise<{ stored: number; visible: number; invisible: number }>;
  /** Reads (and so hides for `visibilitySeconds`) every visible message of a queue. */
  drain(queueUrl: string, visibilitySeconds?: number): Promise<Message[]>;
  stop(): Promise<void>;
}

let queueCounter = 0;

export async function startLocalSqs(): Promise<LocalSqs> {
  const server = await createSqsServer({ port: 0, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const commands: string[] = [];
  const clients: SQSClient[] = [];
  const client = () => {
    const sqs = new SQSClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    sqs.middlewareStack.add(
      (next, context) => (args) => {
        commands.push(context.commandName ?? "unknown");
        return next(args);
      },
      { step: "initialize", name: "recordCommands" },
    );
    clients.push(sqs);
    return sqs;
  };
  const sqs = client();
  const suffix = `${process.pid}-${++queueCounter}`;
  const create = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${suffix}` }))).QueueUrl!;
  const queueUrl = await create("remedy-remediation");
  const dlqUrl = await create("remedy-remediation-dlq");
  commands.length = 0;

  return {
    endpoint,
    queueUrl,
    dlqUrl,
    sqs,
    commands,
    client,
    async counts(url = queueUrl) {
      const output = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      // local-aws-sqs counts in-flight messages in ApproximateNumberOfMessages too (real SQS does not).
      const stored = Number(output.Attributes?.ApproximateNumberOfMessages ?? 0);
      const invisible = Number(output.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
      return { stored, visible: stored - invisible, invisible };
    },
    async drain(url, visibilitySeconds = 30) {
      const messages: Message[] = [];
      while (true) {
        const output = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: visibilitySeconds,
            AttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
        if (!output.Messages?.length) return messages;
        messages.push(...output.Messages);
      }
    },
    async stop() {
      for (const each of clients) each.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
