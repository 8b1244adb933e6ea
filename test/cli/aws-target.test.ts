// Where the CLI's AWS calls go: the stack's region (its outputs; --region may only repeat it), --profile's
// credentials, and the account check before anything is changed. The rules one by one, then the real `remedy` entry
// (cli/remedy.ts's main, as bin/remedy.js runs it, with the real AWS SDK and its credential chain, in this process:
// test/helpers/remedy-process.ts) against moto, where regions are really separate.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actingIdentity, callerDirectory, profileExists, stackFor } from "../../cli/command.ts";
import type { CliDeps, Io } from "../../cli/deps.ts";
import { regionOfQueueUrl, resolveStack, StackError } from "../../cli/stack.ts";
import type { ClientTarget } from "../../platform/clients.ts";
import { MOTO_ACCOUNT_ID, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const directories: string[] = [];
function directory(): string {
  const path = mkdtempSync(join(tmpdir(), "remedy-target-"));
  directories.push(path);
  return path;
}
afterAll(() => {
  for (const path of directories) rmSync(path, { recursive: true, force: true });
});

function outputsFile(dir: string, outputs: Record<string, string>, name = "remedy-outputs.json"): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify(
      Object.fromEntries(
        Object.entries(outputs).map(([key, value]) => [key, { sensitive: false, type: "string", value }]),
      ),
    ),
  );
  return path;
}

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/remedy-remediation";

describe("the stack's region", () => {
  it("comes from the region output", () => {
    const dir = directory();
    outputsFile(dir, { region: "eu-central-1", account_id: "111122223333", queue_url: QUEUE });
    expect(resolveStack({}, {}, dir)).toMatchObject({ region: "eu-central-1", accountId: "111122223333" });
  });

  it("else from the queue URL (outputs of a stack older than the region output)", () => {
    expect(regionOfQueueUrl(QUEUE)).toBe("eu-west-1");
    expect(regionOfQueueUrl("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q")).toBe("cn-north-1");
    expect(regionOfQueueUrl("http://127.0.0.1:4566/000000000000/q")).toBeUndefined();
    expect(resolveStack({ "queue-url": QUEUE }, {}, directory())).toMatchObject({ region: "eu-west-1" });
  });

  it("--region may repeat it, or name it when nothing else does", () => {
    const dir = directory();
    outputsFile(dir, { region: "eu-west-1" });
    expect(resolveStack({ region: "eu-west-1" }, {}, dir).region).toBe("eu-west-1");
    expect(resolveStack({ region: "us-east-2" }, {}, directory()).region).toBe("us-east-2");
  });

  it("--region naming another region than the stack's is refused in one sentence", () => {
    const dir = directory();
    const file = outputsFile(dir, { region: "eu-west-1" });
    expect(() => resolveStack({ region: "us-east-1" }, {}, dir)).toThrow(
      new StackError(
        `Remedy's stack is in eu-west-1 (${file}), not us-east-1: drop --region, or give the other stack's outputs.`,
      ),
    );
    expect(() => resolveStack({ region: "Europe" }, {}, dir)).toThrow('--region "Europe" is not an AWS region name');
  });

  it("the outputs file is found in (and --outputs resolved against) the caller's directory", () => {
    const caller = directory();
    mkdirSync(join(caller, "ops"));
    outputsFile(join(caller, "ops"), { region: "ap-south-1" }, "stack.json");
    outputsFile(caller, { region: "sa-east-1" });
    expect(resolveStack({}, {}, caller).region).toBe("sa-east-1");
    expect(resolveStack({ outputs: "ops/stack.json" }, {}, caller).region).toBe("ap-south-1");
    expect(resolveStack({}, { REMEDY_OUTPUTS: "ops/stack.json" }, caller).region).toBe("ap-south-1");
  });
});

function fakeDeps(env: Record<string, string | undefined>, identity?: { account: string; arn: string }) {
  const targets: ClientTarget[] = [];
  const deps = {
    env,
    user: () => "local-user",
    ...(identity ? { callerIdentity: async () => identity } : {}),
    at(target: ClientTarget) {
      targets.push(target);
      return deps;
    },
  } as unknown as CliDeps;
  return { deps, targets };
}

function recordingIo(): Io & { errors: string[] } {
  const errors: string[] = [];
  return { errors, out() {}, err: (text) => errors.push(text) };
}

describe("callerDirectory", () => {
  it("is INIT_CWD under npm run (which runs in the package root), else where the process runs", () => {
    const root = ROOT.replace(/\/$/, "");
    expect(callerDirectory({ INIT_CWD: "/home/alice/snapshots" }, root)).toBe("/home/alice/snapshots");
    expect(callerDirectory({}, root)).toBe(root);
    // npx remedy / remedy elsewhere: an INIT_CWD left by some outer npm script does not move the user.
    expect(callerDirectory({ INIT_CWD: "/home/alice" }, "/srv/ops")).toBe("/srv/ops");
    expect(callerDirectory({ INIT_CWD: "relative/dir" }, root)).toBe(root);
  });
});

describe("stackFor", () => {
  it("aims every client at the stack's region and --profile, and says when AWS_REGION differs", () => {
    const caller = directory();
    outputsFile(caller, { region: "eu-west-1" });
    const config = join(caller, "aws-config");
    writeFileSync(config, "[profile ops]\nregion = us-east-1\n");
    const { deps, targets } = fakeDeps({ INIT_CWD: caller, AWS_REGION: "us-east-1", AWS_CONFIG_FILE: config });
    const io = recordingIo();
    const { refs } = stackFor({ profile: "ops" }, deps, io);
    expect(refs.region).toBe("eu-west-1");
    expect(targets).toEqual([{ region: "eu-west-1", profile: "ops" }]);
    expect(io.errors).toEqual(["using the stack's region eu-west-1 (AWS_REGION says us-east-1)\n"]);
  });

  it("a --profile that is in neither shared file is refused before any call", () => {
    const caller = directory();
    const env = {
      INIT_CWD: caller,
      AWS_CONFIG_FILE: join(caller, "none-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(caller, "none-credentials"),
    };
    const { deps, targets } = fakeDeps(env);
    expect(() => stackFor({ profile: "prod" }, deps, recordingIo())).toThrow(
      `AWS profile "prod" is in neither ${env.AWS_CONFIG_FILE} nor ${env.AWS_SHARED_CREDENTIALS_FILE}`,
    );
    expect(targets).toEqual([]);
  });

  it("knows profiles as the SDK reads the two files", () => {
    const dir = directory();
    const env = { AWS_CONFIG_FILE: join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials") };
    writeFileSync(env.AWS_CONFIG_FILE, "[default]\nregion=eu-west-1\n[profile  sso-admin ]\nsso_session = x\n[ops]\n");
    writeFileSync(env.AWS_SHARED_CREDENTIALS_FILE, "[keys-only]\naws_access_key_id = A\n");
    expect(profileExists("default", env)).toBe(true);
    expect(profileExists("sso-admin", env)).toBe(true);
    expect(profileExists("keys-only", env)).toBe(true);
    // In the config file a named profile needs the "profile " prefix: [ops] there is not the profile "ops".
    expect(profileExists("ops", env)).toBe(false);
  });
});

describe("actingIdentity", () => {
  it("is the caller's ARN, and refuses credentials of another account than the stack's", async () => {
    const arn = "arn:aws:sts::111122223333:assumed-role/SecOps/alice";
    const { deps } = fakeDeps({}, { account: "111122223333", arn });
    await expect(actingIdentity({ accountId: "111122223333" }, deps)).resolves.toBe(arn);
    await expect(actingIdentity({ accountId: "999988887777" }, deps)).rejects.toThrow(
      "these credentials are for account 111122223333 (arn:aws:sts::111122223333:assumed-role/SecOps/alice), but Remedy's stack is in account 999988887777",
    );
    expect(await actingIdentity({}, fakeDeps({}).deps)).toBe("local-user");
  });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function remedy(args: readonly string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  const { code, stdout, stderr } = await remedyInProcess(args, { cwd, env });
  return { code, stdout, stderr };
}

describe.skipIf(skipWithoutMoto("the CLI's region and profile against moto"))(
  "remedy as run from a shell: the stack's region and --profile (moto)",
  { timeout: 60_000 },
  () => {
    let moto: Moto;
    let queueUrl: string;
    let dlqUrl: string;
    /** No machine AWS settings: only what each test gives. */
    let base: Record<string, string>;

    beforeAll(async () => {
      moto = await startMoto();
      // eu-west-1 only: a client in any other region does not see these queues.
      const sqs = new SQSClient({ ...moto.clientConfig, region: "eu-west-1" });
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "remedy-remediation" }))).QueueUrl!;
      dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "remedy-remediation-dlq" }))).QueueUrl!;
      base = {
        ...Object.fromEntries(
          Object.entries(process.env).filter(
            (entry): entry is [string, string] => !entry[0].startsWith("AWS_") && entry[1] !== undefined,
          ),
        ),
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
    }, 60_000);
    afterAll(() => moto?.stop());

    const keys = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

    it("works in the stack's region although AWS_REGION names another", async () => {
      const cwd = directory();
      outputsFile(cwd, { region: "eu-west-1", account_id: MOTO_ACCOUNT_ID, queue_url: queueUrl, dlq_url: dlqUrl });
      const inOther = await remedy(["peek", "--json"], cwd, { ...base, ...keys, AWS_REGION: "us-east-1" });
      expect(inOther.stderr).toContain("using the stack's region eu-west-1 (AWS_REGION says us-east-1)");
      expect(inOther.code).toBe(0);
      expect(JSON.parse(inOther.stdout)).toMatchObject({ queueUrl, groups: [] });
    });

    it("without a region output, the queue is not found in the wrong region (what the region output prevents)", async () => {
      const cwd = directory();
      const ran = await remedy(["peek", "--queue-url", queueUrl], cwd, { ...base, ...keys, AWS_REGION: "us-east-1" });
      expect(ran.code).toBe(1);
      expect(ran.stdout).toBe("");
      expect(ran.stderr).toContain("The queue does not exist in this account and region");
      const named = await remedy(["peek", "--queue-url", queueUrl, "--region", "eu-west-1"], cwd, {
        ...base,
        ...keys,
        AWS_REGION: "us-east-1",
      });
      expect(named.code).toBe(0);
    });

    it("--profile takes credentials (and, without a stack region, the region) from the shared files", async () => {
      const cwd = directory();
      writeFileSync(join(cwd, "config"), "[profile remedy-ops]\nregion = eu-west-1\n");
      writeFileSync(
        join(cwd, "credentials"),
        "[remedy-ops]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
      );
      const env = {
        ...base,
        AWS_CONFIG_FILE: join(cwd, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(cwd, "credentials"),
      };
      const withProfile = await remedy(
        ["peek", "--json", "--queue-url", queueUrl, "--profile", "remedy-ops"],
        cwd,
        env,
      );
      expect(withProfile.stderr).not.toContain("credentials");
      expect(withProfile.code).toBe(0);
      expect(JSON.parse(withProfile.stdout)).toMatchObject({ queueUrl });
      const without = await remedy(["peek", "--queue-url", queueUrl], cwd, env);
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(/No AWS (credentials found|region set)/);
      const unknown = await remedy(["peek", "--queue-url", queueUrl, "--profile", "prod"], cwd, env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe(
        `remedy peek: AWS profile "prod" is in neither ${join(cwd, "config")} nor ${join(cwd, "credentials")}: check the name (aws configure list-profiles).\n`,
      );
    });
  },
);
