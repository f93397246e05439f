import http from "node:http";
import type { AddressInfo } from "node:net";
import type { NesEditEvent } from "../shared/protocol";

/**
 * Next-edit scenarios for `eval:nes`, the next-edit tests and `bench:nes`'s trace: a file, the cursor, the edits
 * just made, and the file as it should be after the next edit. Written for this repository (not from a dataset).
 */
export interface NesScenario {
  name: string;
  path: string;
  /** The file now (after the edits in `history`). */
  text: string;
  /** 0-based cursor. */
  line: number;
  column: number;
  history: NesEditEvent[];
  /** The file after the predicted edit. */
  expected: string;
}

export const NES_SCENARIOS: NesScenario[] = [
  {
    name: "rename propagation: a variable renamed where it is declared, its uses below",
    path: "src/cart.ts",
    text: [
      "export function total(items: Item[]): number {",
      "  let sum = 0;",
      "  for (const item of items) {",
      "    total += item.price * item.quantity;",
      "  }",
      "  return total;",
      "}",
    ].join("\n"),
    line: 1,
    column: 9,
    history: [{ path: "src/cart.ts", original: "  let total = 0;", updated: "  let sum = 0;", line: 1 }],
    expected: [
      "export function total(items: Item[]): number {",
      "  let sum = 0;",
      "  for (const item of items) {",
      "    sum += item.price * item.quantity;",
      "  }",
      "  return sum;",
      "}",
    ].join("\n"),
  },
  {
    name: "a parameter added: the call sites pass it",
    path: "src/log.ts",
    text: [
      "function log(level: string, message: string) {",
      "  console.log(`[${level}] ${message}`);",
      "}",
      "",
      'log("starting");',
      'log("ready");',
    ].join("\n"),
    line: 0,
    column: 27,
    history: [
      {
        path: "src/log.ts",
        original: "function log(message: string) {\n  console.log(message);",
        updated: "function log(level: string, message: string) {\n  console.log(`[${level}] ${message}`);",
        line: 0,
      },
    ],
    expected: [
      "function log(level: string, message: string) {",
      "  console.log(`[${level}] ${message}`);",
      "}",
      "",
      'log("info", "starting");',
      'log("info", "ready");',
    ].join("\n"),
  },
  {
    name: "a repeated refactor: var → const, done once, the next one follows",
    path: "lib/config.js",
    text: ["const host = env.HOST;", "var port = env.PORT;", "var user = env.USER;"].join("\n"),
    line: 1,
    column: 0,
    history: [{ path: "lib/config.js", original: "var host = env.HOST;", updated: "const host = env.HOST;", line: 0 }],
    expected: ["const host = env.HOST;", "const port = env.PORT;", "const user = env.USER;"].join("\n"),
  },
];

/**
 * The editor flows' files (the VS Code extension test and the UI test): each as it was, after the user's edit (what
 * the scripted engine is asked about), and after the next edit. `point`: the next edit is an insertion on the next
 * line (ghost text there); `rename`: it is two lines further down (a hint).
 */
export const NES_EDITOR_FLOWS = {
  point: {
    before: "export const point = { x: 1, y: 2 };\nexport const other = { x: 4, y: 5 };",
    now: "export const point = { x: 1, y: 2, z: 3 };\nexport const other = { x: 4, y: 5 };",
    after: "export const point = { x: 1, y: 2, z: 3 };\nexport const other = { x: 4, y: 5, z: 6 };",
  },
  rename: {
    before: "let total = 0;\nfor (const x of xs) {\n  total += x;\n}\nconsole.log(total);",
    now: "let sum = 0;\nfor (const x of xs) {\n  total += x;\n}\nconsole.log(total);",
    after: "let sum = 0;\nfor (const x of xs) {\n  sum += x;\n}\nconsole.log(sum);",
  },
} as const;

/** A scenario where the user's last edit needs nothing more: the right answer is no edit. */
export const NES_NO_EDIT: NesScenario = {
  name: "nothing to do: a finished edit",
  path: "src/done.ts",
  text: ["export const limit = 10;", "export const retries = 3;"].join("\n"),
  line: 0,
  column: 22,
  history: [{ path: "src/done.ts", original: "export const limit = 5;", updated: "export const limit = 10;", line: 0 }],
  expected: ["export const limit = 10;", "export const retries = 3;"].join("\n"),
};

/**
 * A SCRIPTED next-edit engine: a loopback OpenAI-compatible server (recorded contract of `/v1/models`,
 * streaming `/v1/completions` and `/v1/chat/completions`) whose one model, `sweep-next-edit-scripted`, answers a
 * Sweep-format prompt with a recorded rewrite: the `current/` window is looked up in `answers` (window text → the
 * window rewritten) and, when it is not there, copied unchanged (no edit). It stands in for a real next-edit model
 * where none can run (tests, `eval:nes` here); it checks Hearth's plumbing, never a model.
 */
export async function startScriptedNesEngine(
  answers: Map<string, string>,
): Promise<{ url: string; prompts: string[]; stop(): Promise<void> }> {
  const prompts: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && req.url?.startsWith("/v1/models")) {
        return send(200, {
          object: "list",
          data: [{ id: "sweep-next-edit-scripted", object: "model", max_model_len: 8192 }],
        });
      }
      if (req.method !== "POST" || !req.url?.startsWith("/v1/")) return send(404, { error: { message: "not found" } });
      let body: { prompt?: string; messages?: Array<{ content: string }>; stream?: boolean };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as typeof body;
      } catch {
        return send(400, { error: { message: "bad JSON" } });
      }
      const prompt = body.prompt ?? body.messages?.map((m) => m.content).join("\n") ?? "";
      prompts.push(prompt);
      const current = /<\|file_sep\|>current\/[^\n]*\n([\s\S]*?)\n<\|file_sep\|>updated\//.exec(prompt)?.[1];
      const text = current === undefined ? "" : `${answers.get(current) ?? current}\n`;
      const chat = req.url.startsWith("/v1/chat/");
      const usage = { prompt_tokens: Math.ceil(prompt.length / 3), completion_tokens: Math.ceil(text.length / 3) };
      if (!body.stream) {
        return send(
          200,
          chat
            ? { choices: [{ message: { content: text }, finish_reason: "stop" }], usage }
            : { choices: [{ text, finish_reason: "stop" }], usage },
        );
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      // Line by line, as a model streams.
      for (const piece of text.match(/[^\n]*\n?/g)!.filter(Boolean)) {
        const choice = chat ? { delta: { content: piece }, finish_reason: null } : { text: piece, finish_reason: null };
        res.write(`data: ${JSON.stringify({ choices: [choice] })}\n\n`);
      }
      const last = chat ? { delta: {}, finish_reason: "stop" } : { text: "", finish_reason: "stop" };
      res.write(`data: ${JSON.stringify({ choices: [last], usage })}\n\ndata: [DONE]\n\n`);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    prompts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The scripted engine's answers for scenarios: each scenario's 21-line window (here, the whole short file) mapped to
 * the window it should become.
 */
export function scriptedAnswers(scenarios: readonly NesScenario[]): Map<string, string> {
  return new Map(scenarios.map((s) => [s.text, s.expected]));
}
