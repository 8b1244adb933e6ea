// A local stand-in for Slack's Web API (https://slack.com/api/<method>) and its response_urls
// (https://hooks.slack.com/...): a node:http server on 127.0.0.1 and a fetch that sends those two hosts to it, so
// code under test keeps its real URLs and nothing reaches the network. Every request is recorded with its JSON body
// parsed; tests script the answer per API method or per path, else Slack's usual success is given.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  /** The host the client asked for: "slack.com" or "hooks.slack.com". */
  host: string;
  /** The path asked for, e.g. "/api/chat.postMessage" or "/actions/T1/1/abc". */
  path: string;
  /** The Web API method for /api/ paths ("chat.postMessage"), else undefined. */
  method: string | undefined;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface SlackAnswer {
  /** 200 unless given. */
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as text (ignored when json is given). */
  text?: string;
  /** Close the connection without answering (a network error). */
  hangUp?: boolean;
  /** Answer only after this long (to trip the client's timeout). */
  delayMs?: number;
}

/**
 * How to answer a method or path: one answer for every call, a list used in order (then the default), or a function
 * of the call and its 1-based number among that key's calls (undefined: the default).
 */
export type SlackHandler = SlackAnswer | SlackAnswer[] | ((call: SlackCall, n: number) => SlackAnswer | undefined);

export interface SlackServer {
  /** Base URL of the local server, e.g. http://127.0.0.1:54321. */
  url: string;
  /** A fetch that sends https://slack.com and https://hooks.slack.com here; any other host is refused. */
  fetch: typeof fetch;
  calls: SlackCall[];
  /** Scripts the answer for an API method ("chat.postMessage") or a path ("/actions/T1/1/abc"). */
  answer(methodOrPath: string, handler: SlackHandler): void;
  close(): Promise<void>;
}

const SLACK_HOSTS = new Set(["slack.com", "hooks.slack.com"]);
// Node's own fetch, taken before any test stubs the global with this helper's (which would then call itself).
const nodeFetch = globalThis.fetch;

/** Slack's ordinary answers: what a working workspace says. */
function defaultAnswer(call: SlackCall, n: number, nextTs: () => string): SlackAnswer {
  const body = (typeof call.body === "object" && call.body !== null ? call.body : {}) as Record<string, unknown>;
  if (call.method === undefined) return { text: "ok", headers: { "content-type": "text/html" } };
  switch (call.method) {
    case "chat.postMessage":
    case "chat.postEphemeral":
      return { json: { ok: true, channel: body.channel, ts: nextTs(), message: { text: body.text } } };
    case "chat.update":
      return { json: { ok: true, channel: body.channel, ts: body.ts, text: body.text } };
    case "chat.delete":
      return { json: { ok: true, channel: body.channel, ts: body.ts } };
    case "views.open":
    case "views.push":
    case "views.update":
      return { json: { ok: true, view: { id: `V${String(n).padStart(10, "0")}` } } };
    case "auth.test":
      return { json: { ok: true, team_id: "T0000000001", user_id: "U0000000001" } };
    default:
      return { json: { ok: false, error: "unknown_method" } };
  }
}

export async function startSlackServer(): Promise<SlackServer> {
  const calls: SlackCall[] = [];
  const handlers = new Map<string, SlackHandler>();
  const counts = new Map<string, number>();
  let ts = 1_790_000_000_000_000;
  // Message timestamps as Slack writes them ("1790000000.000001"), increasing.
  const nextTs = () => {
    ts += 1;
    return `${Math.floor(ts / 1_000_000)}.${String(ts % 1_000_000).padStart(6, "0")}`;
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      const method = path.startsWith("/api/") ? path.slice("/api/".length) : undefined;
      const host = String(request.headers["x-slack-host"] ?? "");
      const call: SlackCall = { host, path, method, headers: request.headers, body };
      calls.push(call);

      const key = method ?? path;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const handler = handlers.get(key);
      let scripted: SlackAnswer | undefined;
      if (typeof handler === "function") scripted = handler(call, n);
      else if (Array.isArray(handler)) scripted = handler[n - 1];
      else scripted = handler;
      const answer = scripted ?? defaultAnswer(call, n, nextTs);

      if (answer.hangUp) {
        request.socket.destroy();
        return;
      }
      const reply = () => {
        if (response.destroyed) return;
        const json = answer.json !== undefined;
        response.writeHead(answer.status ?? 200, {
          "content-type": json ? "application/json; charset=utf-8" : "text/plain",
          ...answer.headers,
        });
        response.end(json ? JSON.stringify(answer.json) : (answer.text ?? ""));
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const localFetch: typeof fetch = async (input, init) => {
    const asked = new URL(input instanceof Request ? input.url : String(input));
    if (asked.protocol !== "https:" || !SLACK_HOSTS.has(asked.hostname) || asked.port !== "") {
      throw new TypeError(`the test Slack server refuses ${asked.protocol}//${asked.host}`);
    }
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [name, value] of new Headers(init?.headers)) headers.set(name, value);
    headers.set("x-slack-host", asked.hostname);
    const fromRequest =
      input instanceof Request ? { method: input.method, body: await input.arrayBuffer(), signal: input.signal } : {};
    return nodeFetch(`${url}${asked.pathname}${asked.search}`, { ...fromRequest, ...init, headers });
  };

  return {
    url,
    fetch: localFetch,
    calls,
    answer: (methodOrPath, handler) => {
      handlers.set(methodOrPath, handler);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
