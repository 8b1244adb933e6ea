// A real SQS-protocol server (local-aws-sqs) running in this process on a random free port of 127.0.0.1, with the
// remediation queue (no redrive: the coordinator counts attempts itself) and its dead-letter queue. The only place
// an SQS endpoint is set: production clients get theirs from the SDK's standard settings.
//
// Time. local-aws-sqs keeps its clocks in global timers, looked up when it needs them: a received message is hidden
// by a setTimeout of VisibilityTimeout seconds, a delivery delay and the retention period are setTimeouts, and a
// ReceiveMessage is answered by a setInterval looking at the queue every 10 ms until MaxNumberOfMessages are found or
// a setTimeout of WaitTimeSeconds + 40 ms ends (so, unlike SQS, a receive that finds fewer messages than it asks for
// always waits out its WaitTimeSeconds, and even a short poll takes 40 ms). It reads Date.now only for timestamps it
// reports (SentTimestamp, ApproximateFirstReceiveTimestamp) and inside receipt handles, never to decide anything; it
// has no option or hook for time. So a test can run it on virtual time:
//   vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS], shouldAdvanceTime: true });
//   local = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
// Fake time then moves on with real time (shouldAdvanceTime: network I/O and the server's polling keep flowing),
// jumps when the test calls `vi.advanceTimersByTimeAsync(ms)` (a visibility timeout ends exactly as it would after
// `ms` of real time), and runs fast while a receive waits on the server (`advanceTimers`). Without `advanceTimers`
// (the bench, tests on real timers) nothing changes: the server runs on real time.
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

/** The global timers local-aws-sqs keeps its clocks in: fake these (not Date, not setImmediate) for virtual time. */
export const SQS_SERVER_TIMERS = ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] as const;

export interface LocalSqsOptions {
  /**
   * Advances fake time by `ms` (pass `(ms) => vi.advanceTimersByTime(ms)`, with SQS_SERVER_TIMERS faked; the server's
   * timer callbacks only flip flags and resolve promises, so the synchronous variant is enough, and cheaper: the
   * async one waits a real setTimeout for each timer it fires). With it, for every client of this helper:
   * - while a ReceiveMessage waits on the server, fake time advances in steps of the server's 10 ms look at the queue,
   *   with a real turn of the event loop between steps for the network: the receive gets the answer it would get
   *   after the same wait on real time (messages whose visibility ends meanwhile included), in a few milliseconds.
   *   Two receives waiting at once both advance it: time then runs faster, never backwards;
   * - after every answer, the server's timers due within the next millisecond run before the caller goes on:
   *   local-aws-sqs applies ChangeMessageVisibility 0 and a delivery delay of 0 with a 0 ms setTimeout, which real
   *   timers run before the next request can arrive but fake ones only on their next tick.
   */
  advanceTimers?: (ms: number) => unknown;
}

/** local-aws-sqs looks for visible messages every 10 ms while a receive waits. */
const RECEIVE_POLL_MS = 10;
/** A 0 ms fake timer set while a fake tick is running is due 1 ms later (@sinonjs/fake-timers). */
const DUE_NOW_MS = 1;

let queueCounter = 0;

export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const { advanceTimers } = options;
  /** Sends one command; on virtual time, advances time while a receive waits and runs what is due after. */
  const onServerTime = async <T>(send: () => Promise<T>, isReceive: boolean): Promise<T> => {
    if (!advanceTimers) return send();
    const answer = send();
    if (isReceive) {
      let settled = false;
      const done = () => {
        settled = true;
      };
      answer.then(done, done);
      while (!settled) {
        advanceTimers(RECEIVE_POLL_MS);
        // A real turn (setImmediate is not faked): the server's answer travels through the event loop's I/O phase.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const output = await answer;
    advanceTimers(DUE_NOW_MS);
    return output;
  };
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
        return onServerTime(() => next(args), context.commandName === "ReceiveMessageCommand");
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

  const counts = async (url = queueUrl) => {
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
  };

  return {
    endpoint,
    queueUrl,
    dlqUrl,
    sqs,
    commands,
    client,
    counts,
    async drain(url, visibilitySeconds = 30) {
      const messages: Message[] = [];
      for (let empty = 0; empty < 100; ) {
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
        if (output.Messages?.length) {
          messages.push(...output.Messages);
          continue;
        }
        // An empty answer is not proof of an empty queue: local-aws-sqs answers a short poll after 40 ms of timers
        // looking at the queue, which a busy machine may not run in time.
        const { visible } = await counts(url);
        if (visible === 0) return messages;
        empty++;
      }
      return messages;
    },
    async stop() {
      for (const each of clients) each.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
