/* global document, window -- page.evaluate callbacks run in the browser */
// UI tests in a real browser against the real VS Code UI (code-server from .e2e, Debian's Chromium through
// playwright-core), with Hearth installed from its VSIX like a user would install it. Each step saves a
// screenshot under test-results/e2e/ so a person can look. Fails loudly (never skips) when a tool is missing.
//
//   node test/e2e/ui.mjs [--vsix hearth-linux-x64-<version>.vsix]
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const { requireE2eTools, chromiumArgs } = require("../integration/e2eEnv.cjs");
const tools = requireE2eTools();
const { chromium } = require(tools.playwright);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const { values } = parseArgs({ options: { vsix: { type: "string" } } });
const vsix = path.resolve(values.vsix ?? path.join(root, `hearth-linux-x64-${version}.vsix`));
if (!fs.existsSync(vsix)) throw new Error(`VSIX not found: ${vsix}. Run 'npm run package' first.`);

const { testModel } = await import(path.join(root, "dist", "test", "testModels.mjs"));
const model = await testModel("stories260K");
const shots = path.join(root, "test-results", "e2e");
fs.rmSync(shots, { recursive: true, force: true });
fs.mkdirSync(shots, { recursive: true });
const run = fs.mkdtempSync(path.join(os.tmpdir(), "hearth-ui-"));
const t0 = Date.now();
const log = (...a) => console.log(`[ui ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const results = [];

// A server that must never be contacted: model output points images and links at it.
const exfilHits = [];
const exfil = http.createServer((req, res) => {
  exfilHits.push(req.url);
  res.end("no");
});
await new Promise((r) => exfil.listen(0, "127.0.0.1", r));
const exfilUrl = `http://127.0.0.1:${exfil.address().port}`;

// A loopback model host for "Set Up Models": a catalog whose four entries are the test's models (stories260K for
// chat, the lab's FIM, embedding and reranker models), each with its size and sha256, served over plain HTTP.
const { fourRoleFixtures } = await import(path.join(root, "dist", "test", "fixtureCatalog.mjs"));
const fixtures = fourRoleFixtures(model, path.join(root, "lab", "models"));
const modelHost = await fixtures.serve();
const modelHostUrl = modelHost.url;

// Next-edit suggestions from the SCRIPTED next-edit engine (recorded rewrites, bench/nesScenarios.ts): each file's
// state after the user's edit maps to the file after the next edit.
const { startScriptedNesEngine, NES_EDITOR_FLOWS } = await import(path.join(root, "dist", "test", "nesScenarios.mjs"));
const { point: nesPoint, rename: nesRename } = NES_EDITOR_FLOWS;
const nesEngine = await startScriptedNesEngine(
  new Map([
    [nesPoint.now, nesPoint.after],
    [nesRename.now, nesRename.after],
  ]),
);

// Workspace: the fixture files plus a saved chat whose "model output" is hostile HTML.
const workspace = path.join(run, "workspace");
fs.cpSync(path.join(root, "test", "fixtures", "workspace"), workspace, { recursive: true });
fs.writeFileSync(path.join(workspace, "nes-point.ts"), nesPoint.before);
fs.writeFileSync(path.join(workspace, "nes-rename.ts"), nesRename.before);
const now = new Date().toISOString();
const hostile = [
  "Here is the answer. <script>window.pwned = 'script'; top.pwned = 'script'</script>",
  `<img src="${exfilUrl}/img" onerror="window.pwned = 'img-onerror'">`,
  `![chart](${exfilUrl}/markdown-image)`,
  `<a href="javascript:window.pwned='js-link'">click me</a> and [also me](javascript:window.pwned='md-link')`,
  `<svg onload="window.pwned='svg'"></svg><iframe src="${exfilUrl}/iframe"></iframe>`,
  `<form action="${exfilUrl}/form"><input value="x"></form><style>body{display:none}</style>`,
  "```html\n<script>alert('this one is just code')</script>\n```",
].join("\n\n");
fs.writeFileSync(
  path.join(workspace, "hostile-chat.json"),
  JSON.stringify({
    format: 1,
    id: "hostile",
    title: "Hostile output",
    createdAt: now,
    updatedAt: now,
    messages: [
      { role: "user", content: "Show me HTML", timestamp: now },
      {
        role: "assistant",
        content: hostile,
        timestamp: now,
        stopReason: "stop",
        // A reasoning model's thinking, with HTML and a code fence in it: shown folded, as text, without buttons.
        reasoning: `I should answer <img src=x onerror="window.pwned='reasoning'"> politely.\n\`\`\`js\nrm -rf /\n\`\`\``,
      },
    ],
  }),
);

// Install the VSIX into a fresh extensions folder, as a user would.
const userData = path.join(run, "user-data");
const extensions = path.join(run, "extensions");
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.writeFileSync(
  path.join(userData, "User", "settings.json"),
  JSON.stringify({
    "hearth.models.chat": model,
    "hearth.threads": 1,
    "hearth.chat.temperature": 0,
    "hearth.actions.maxTokens": 160,
    "hearth.setup.catalog": `${modelHostUrl}/catalog.json`,
    "hearth.engines.nes": nesEngine.url,
    "hearth.nes.debounceMs": 0,
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": false,
    "workbench.tips.enabled": false,
    // VS Code's own chat panel would sit beside ours; keep the screenshots about Hearth.
    "workbench.secondarySideBar.defaultVisibility": "hidden",
  }),
);
const install = spawnSync(
  tools.node,
  [tools.codeServer, "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix],
  { encoding: "utf8" },
);
if (install.status !== 0) throw new Error(`VSIX install failed:\n${install.stdout}\n${install.stderr}`);
log(`installed ${path.basename(vsix)}: ${install.stdout.trim().split("\n").pop()}`);

const port = Number(process.env.HEARTH_UI_PORT || 8125);
const server = spawn(
  tools.node,
  [
    tools.codeServer,
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--auth",
    "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--user-data-dir",
    userData,
    "--extensions-dir",
    extensions,
  ],
  { detached: true, stdio: ["ignore", "pipe", "pipe"] },
);
let serverLog = "";
server.stdout.on("data", (d) => (serverLog += d));
server.stderr.on("data", (d) => (serverLog += d));

let browser;
let page;
let failed = 0;
let stepNo = 0;
async function step(name, fn) {
  stepNo++;
  const started = Date.now();
  const file = path.join(
    shots,
    `${String(stepNo).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`,
  );
  try {
    await fn();
    await page.screenshot({ path: file });
    results.push(`  ✓ ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    await page?.screenshot({ path: file }).catch(() => undefined);
    results.push(
      `  ✗ ${name}\n    ${String(error?.stack ?? error)
        .split("\n")
        .slice(0, 4)
        .join("\n    ")}`,
    );
    throw error;
  } finally {
    console.log(results.at(-1));
  }
}

const chat = () => page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
/** Run "Hearth: <title>" from the command palette (F1), by clicking its row. */
// The palette lists what the workbench knew when it opened; right after a (re)load the extension's commands can
// be missing for a moment, so close and reopen until the row shows up.
async function runCommand(title) {
  const input = page.locator(".quick-input-widget input");
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: `Hearth: ${title}` }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("F1");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 3000 });
      await row.click();
      return;
    } catch (error) {
      await page.keyboard.press("Escape");
      if (attempt === 8) throw error;
    }
  }
}
async function send(text) {
  const input = chat().locator("#input");
  // Focus the chat's input first: fill() selects all and types into whatever has the focus, and an editor that
  // kept it would get the text (seen once under CI load, with hello.ts replaced by the prompt).
  await input.click();
  await input.fill(text);
  await input.press("Enter");
}
// Hearth's status-bar item (its text is "Hearth" or the model name after a codicon).
const statusItem = () =>
  page
    .locator(".statusbar-item")
    .filter({ hasText: /Hearth|stories260K/ })
    .first();

try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${serverLog}`)), 60_000);
    const check = setInterval(() => {
      if (/HTTP server listening on/.test(serverLog)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    server.on("exit", (c) => reject(new Error(`code-server exited ${c}:\n${serverLog}`)));
  });
  log("code-server up");
  browser = await chromium.launch({ executablePath: tools.chromium, args: chromiumArgs });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  if (process.env.HEARTH_UI_DEBUG)
    page.on("console", (m) => console.log(`[console] ${m.type()} ${m.text().slice(0, 300)}`));
  // Requests made by the chat webview's frames to anything but its own resources (which VS Code's service
  // worker serves from the extension folder under the vscode-resource host) or the local server.
  const outside = [];
  context.on("request", (req) => {
    let frameUrl = "";
    try {
      frameUrl = req.frame()?.url() ?? "";
    } catch {
      // service-worker requests have no frame
    }
    if (!/webview/i.test(frameUrl)) return;
    const url = req.url();
    const own =
      url.startsWith(`http://127.0.0.1:${port}/`) || /^https:\/\/[^/]*vscode-resource\.vscode-cdn\.net\//.test(url);
    if (!own && !url.startsWith("data:") && !url.startsWith("blob:")) outside.push(url);
  });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor();

  await step("open the Hearth chat view from the activity bar", async () => {
    await page
      .locator(".activitybar .action-item a[aria-label^='Hearth'], .activitybar .action-item[aria-label^='Hearth']")
      .first()
      .click();
    await chat().locator("#input").waitFor();
    await chat().locator(".empty").waitFor();
  });

  await step("status bar shows Hearth, sidecar not started yet", async () => {
    await statusItem().waitFor();
    const text = await statusItem().innerText();
    if (!/Hearth/.test(text)) throw new Error(`status bar text: ${text}`);
  });

  await step("type a prompt and see streamed text appear", async () => {
    await send("/params max-tokens 3000");
    await chat().locator(".notice", { hasText: "max-tokens = 3000" }).waitFor();
    await send("Once upon a time there was a little dragon");
    await chat().locator(".message.user", { hasText: "little dragon" }).waitFor();
    // Streamed text in the answer being generated, while Stop is shown.
    await chat().locator("#stop").waitFor({ state: "visible" });
    const body = chat().locator(".message.assistant.generating .message-body");
    await body.filter({ hasText: /\w+ \w+ \w+/ }).waitFor();
  });

  await step("press Stop: generation ends and the answer is marked stopped", async () => {
    await chat().locator("#stop").click();
    await chat().locator(".message.assistant .note", { hasText: "Stopped." }).waitFor();
    await chat().locator("#send").waitFor({ state: "visible" });
  });

  await step("status bar shows the loaded model", async () => {
    await page.waitForFunction(() => /stories260K/.test(document.body.innerText));
    const text = await statusItem().innerText();
    if (!/stories260K/.test(text)) throw new Error(`status bar text: ${text}`);
  });

  await step("start a new chat", async () => {
    await chat().locator("#new-chat").click();
    await chat().locator(".empty").waitFor();
  });

  await step("reload the window and find the chat in the history", async () => {
    await page.reload();
    await page.locator(".monaco-workbench").waitFor();
    await page
      .locator(".activitybar .action-item a[aria-label^='Hearth'], .activitybar .action-item[aria-label^='Hearth']")
      .first()
      .waitFor();
    await runCommand("Open Chat");
    await chat().locator("#input").waitFor();
    await chat().locator("#history-button").click();
    const row = chat().locator(".history-open", { hasText: "little dragon" });
    await row.waitFor();
    await row.click();
    await chat().locator(".message.user", { hasText: "little dragon" }).waitFor();
    await chat().locator(".message.assistant .note", { hasText: "Stopped." }).waitFor();
  });

  await step("run a palette command: Hearth: Show Stats", async () => {
    await runCommand("Show Stats");
    await chat()
      .locator(".notice", { hasText: /Session: \d+ answers/ })
      .waitFor();
  });

  await step(
    "Hearth: Search Code indexes the workspace, lists hits with their scores, Enter opens the range",
    async () => {
      await runCommand("Search Code");
      // The palette's input is reused by the command's quick pick: type only once that quick pick is up.
      await page.locator(".quick-input-widget .quick-input-title", { hasText: "Hearth: Search Code" }).waitFor();
      const input = page.locator(".quick-input-widget input");
      await input.fill("greet someone by name");
      const hit = page.locator(".quick-input-list .monaco-list-row", { hasText: "hello.ts:1-4" }).first();
      await hit.waitFor({ timeout: 60_000 });
      await page
        .locator(".quick-input-list .monaco-list-row", { hasText: /lexical [\d.]+ \(#1\)/ })
        .first()
        .waitFor();
      await input.press("Enter");
      await page.locator(".tab.active", { hasText: "hello.ts" }).waitFor();
    },
  );

  await step("/search in chat shows clickable hits; a click opens the file at the hit's lines", async () => {
    // hello.ts is open from the previous step: put the cursor at its end, with nothing selected. The quick pick of
    // that step may still hold the focus for a moment: close it, click into the editor and try again (5 tries).
    const editor = page.locator(".editor-group-container.active .monaco-editor .view-lines").first();
    const atEnd = page.locator(".statusbar-item", { hasText: /^Ln 5, Col 1$/ });
    for (let attempt = 0; attempt < 5; attempt++) {
      await page.keyboard.press("Escape");
      await editor.click();
      await page.keyboard.press("Control+End");
      if (
        await atEnd.waitFor({ timeout: 5_000 }).then(
          () => true,
          () => false,
        )
      )
        break;
    }
    await atEnd.waitFor();
    await send("/search greet");
    const link = chat().locator(".hit-link", { hasText: "hello.ts:1-4" }).first();
    await link.waitFor();
    await chat()
      .locator(".hit-why", { hasText: /lexical/ })
      .first()
      .waitFor();
    await link.click();
    // Opening a hit selects its lines (1-4 of hello.ts: 144 characters).
    await page.locator(".statusbar-item", { hasText: /\(144 selected\)/ }).waitFor();
  });

  await step(
    "Document Selection shows a diff with Accept / Reject; Accept edits the file, Undo restores it",
    async () => {
      // hello.ts is open from the search steps; select all of it.
      await page.locator(".tab", { hasText: "hello.ts" }).first().click();
      await page.locator(".monaco-editor .view-lines").first().click();
      await page.keyboard.press("Control+A");
      await runCommand("Document Selection");
      const accept = page.locator('.editor-actions a.action-label[aria-label^="Accept Proposed Edit"]');
      await accept.waitFor({ timeout: 60_000 });
      await page.locator('.editor-actions a.action-label[aria-label^="Reject Proposed Edit"]').waitFor();
      await page.locator(".tab.active", { hasText: /doc: hello\.ts/ }).waitFor();
      await page.screenshot({ path: path.join(shots, `${String(stepNo).padStart(2, "0")}-diff-before-accept.png`) });
      await accept.click();
      // Accept closes the diff and brings hello.ts back.
      await page.locator(".tab", { hasText: /doc: hello\.ts/ }).waitFor({ state: "detached" });
      await page.locator(".tab.active", { hasText: "hello.ts" }).waitFor();
      // hello.ts has 4 lines (+ the empty last one); the accepted doc comment adds lines above them.
      await page.waitForFunction(
        () =>
          document.querySelectorAll(".editor-group-container.active .monaco-editor .margin-view-overlays .line-numbers")
            .length > 5,
      );
      await page.locator(".editor-group-container.active .monaco-editor .view-lines").click();
      await page.keyboard.press("Control+Z");
      await page.waitForFunction(
        () =>
          document.querySelectorAll(".editor-group-container.active .monaco-editor .margin-view-overlays .line-numbers")
            .length === 5,
      );
    },
  );

  await step("hostile model output renders inert", async () => {
    await send("/load hostile-chat.json");
    await chat().locator(".message.assistant", { hasText: "Here is the answer." }).waitFor();
    const report = await chat()
      .locator("body")
      .evaluate(() => {
        const bodies = [...document.querySelectorAll(".message-body")];
        const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? "";
        return {
          pwned: window.pwned ?? null,
          topPwned: (() => {
            try {
              return window.top.pwned ?? null;
            } catch {
              return "cross-origin";
            }
          })(),
          scripts: bodies.reduce(
            (n, b) => n + b.querySelectorAll("script, img, iframe, svg, form, input, style").length,
            0,
          ),
          handlers: bodies.reduce(
            (n, b) =>
              n +
              [...b.querySelectorAll("*")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
            0,
          ),
          jsLinks: bodies.reduce((n, b) => n + b.querySelectorAll('a[href^="javascript" i]').length, 0),
          codeShown: bodies.some((b) => b.querySelector("pre code")?.textContent?.includes("<script>alert")),
          reasoning: [...document.querySelectorAll("details.reasoning")].map((d) => ({
            open: d.open,
            elements: d.querySelectorAll(".reasoning-text *").length,
            buttons: d.querySelectorAll("button").length,
            text: d.querySelector(".reasoning-text")?.textContent ?? "",
          })),
          csp,
        };
      });
    // Click the neutralised javascript: link: nothing may run.
    await chat()
      .locator("a", { hasText: "click me" })
      .click()
      .catch(() => undefined);
    const afterClick = await chat()
      .locator("body")
      .evaluate(() => window.pwned ?? null);
    const problems = [];
    if (report.pwned !== null || afterClick !== null) problems.push(`a script ran: ${report.pwned ?? afterClick}`);
    if (report.topPwned !== null && report.topPwned !== "cross-origin") problems.push(`top.pwned = ${report.topPwned}`);
    if (report.scripts) problems.push(`${report.scripts} active elements rendered`);
    if (report.handlers) problems.push(`${report.handlers} elements with on* handlers`);
    if (report.jsLinks) problems.push(`${report.jsLinks} javascript: links`);
    if (!report.codeShown) problems.push("the fenced code block was not shown as text");
    const [thought] = report.reasoning;
    if (report.reasoning.length !== 1) problems.push(`${report.reasoning.length} reasoning blocks (expected 1)`);
    else if (thought.open) problems.push("the reasoning block is not folded");
    else if (thought.elements || thought.buttons) problems.push("the reasoning block rendered elements or buttons");
    else if (!thought.text.includes("<img src=x") || !thought.text.includes("rm -rf /")) {
      problems.push(`the reasoning text is not shown as text: ${thought.text}`);
    }
    if (!/script-src 'nonce-[^']+'/.test(report.csp)) problems.push(`CSP has no script nonce: ${report.csp}`);
    if (/unsafe-eval|unsafe-inline/.test(report.csp)) problems.push(`CSP allows unsafe-*: ${report.csp}`);
    await new Promise((r) => setTimeout(r, 500));
    if (exfilHits.length) problems.push(`requests reached the outside server: ${exfilHits.join(", ")}`);
    if (outside.length) problems.push(`requests left the page: ${outside.slice(0, 5).join(", ")}`);
    if (problems.length) throw new Error(problems.join("; "));
  });

  /** Open a workspace file through Quick Open (F1 without the ">" is file search), and click into its text. */
  async function openFile(name) {
    const input = page.locator(".quick-input-widget input");
    await page.keyboard.press("Escape");
    await page.keyboard.press("F1");
    await input.waitFor({ state: "visible" });
    await input.fill(name);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor();
    await input.press("Enter");
    await page.locator(".tab.active", { hasText: name }).waitFor();
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
  }
  const activeText = () => page.locator(".editor-group-container.active .monaco-editor .view-lines").first();
  /** Waits until a text decoration of the active editor shows text matching `pattern` (VS Code draws a
   * decoration's `after` text with CSS, so it is read from the spans' `::after` content). */
  async function decorationText(pattern) {
    for (let attempt = 0; attempt < 300; attempt++) {
      const texts = await page.evaluate(() =>
        [
          ...document.querySelectorAll(
            ".editor-group-container.active .view-lines span[class*='TextEditorDecorationType']",
          ),
        ].map((el) => window.getComputedStyle(el, "::after").content),
      );
      if (texts.some((t) => pattern.test(t))) return;
      await page.waitForTimeout(100);
    }
    throw new Error(`no decoration shows ${pattern}`);
  }

  await step(
    "next edit: the user's insertion on one line is offered as ghost text on the next; Tab accepts it",
    async () => {
      await openFile("nes-point.ts");
      // The user's edit: ", z: 3" typed into line 1 before " };".
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("End");
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowLeft");
      await page.keyboard.type(", z: 3");
      // Line 2, at its end: moving to the line asks for the next edit there. The answer inserts before " };", so
      // with the cursor past that point it is a hint on the line...
      await page.keyboard.press("ArrowDown");
      await page.keyboard.press("End");
      await decorationText(/Tab: accept, Esc: dismiss/);
      // ...and ghost text once the cursor reaches the insertion point along the line (an answer that arrives while
      // the user is still moving there turns into ghost text the same way).
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowLeft");
      await page.locator(".statusbar-item", { hasText: /^Ln 2, Col 34$/ }).waitFor();
      // Ghost text is syntax-highlighted: ", z: 6" comes as several spans.
      const ghost = page.locator(".ghost-text-decoration", { hasText: "z:" }).first();
      await ghost.waitFor();
      await page.screenshot({ path: path.join(shots, `${String(stepNo).padStart(2, "0")}-next-edit-ghost-text.png`) });
      await page.keyboard.press("Tab");
      await activeText().getByText("{ x: 4, y: 5, z: 6 };").waitFor();
    },
  );

  await step("next edit elsewhere: a hint at the lines below; Tab jumps there, Tab again applies it", async () => {
    await openFile("nes-rename.ts");
    // The user's edit: `total` renamed `sum` where it is declared.
    await page.keyboard.press("Control+Home");
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Control+Shift+ArrowRight");
    await page.keyboard.type("sum");
    // Typing asks for inline suggestions; the next edit is further down, so it shows as a hint there.
    await decorationText(/Tab: go to the next edit/);
    await page.screenshot({ path: path.join(shots, `${String(stepNo).padStart(2, "0")}-next-edit-hint.png`) });
    await page.keyboard.press("Tab");
    await page.locator(".statusbar-item", { hasText: /^Ln 3, Col 1$/ }).waitFor();
    await decorationText(/Tab: accept, Esc: dismiss/);
    await page.keyboard.press("Tab");
    await activeText().getByText("console.log(sum);").waitFor();
  });

  await step("VS Code's own chat: Hearth's model is in its picker; @hearth /search answers with the hit", async () => {
    await page.keyboard.press("Escape");
    const input = page.locator(".quick-input-widget input");
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: /^Chat: Open Chat/ }).first();
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press("F1");
      await input.waitFor({ state: "visible" });
      await input.fill(">Chat: Open Chat");
      try {
        await row.waitFor({ timeout: 3000 });
        await row.click();
        break;
      } catch (error) {
        await page.keyboard.press("Escape");
        if (attempt === 5) throw error;
      }
    }
    const picker = page
      .locator(".interactive-input-part")
      .getByText(/stories260K/)
      .first();
    await picker.waitFor({ timeout: 30_000 });
    await page.locator(".interactive-input-part .monaco-editor").first().click();
    // VS Code's default agent needs a Copilot sign-in here (no network); an extension's participant does not.
    await page.keyboard.type("@hearth /search greet someone by name");
    await page.keyboard.press("Enter");
    // VS Code offers a Copilot sign-in on the first message; closing it goes on with the chosen model.
    const signIn = page.locator(".monaco-dialog-box", { hasText: "Sign in" });
    if (
      await signIn.waitFor({ timeout: 5000 }).then(
        () => true,
        () => false,
      )
    ) {
      await signIn.locator(".codicon-dialog-close, .action-label.codicon-close").first().click();
    }
    const answer = page.locator(".interactive-item-container.interactive-response").last();
    await answer.getByText(/hits? \((lexical|vector|hybrid)/).waitFor({ timeout: 60_000 });
    const text = await answer.innerText();
    if (!/hello\.ts:\d+-\d+/.test(text) || /sign(ed)? in/i.test(text)) throw new Error(`@hearth answered: ${text}`);
  });

  await step(
    "Hearth: Set Up Models shows the plan for this machine: each role's model, download and memory",
    async () => {
      await runCommand("Set Up Models");
      const go = page.locator(".quick-input-list .monaco-list-row", { hasText: "Set up these models" });
      await go.waitFor({ timeout: 60_000 });
      for (const role of ["chat", "completion", "embedding", "rerank"])
        await page
          .locator(".quick-input-list .monaco-list-row", { hasText: `${role}:` })
          .first()
          .waitFor();
    },
  );

  await step("set up: downloads verified, each role answers, the settings are written", async () => {
    await page.locator(".quick-input-list .monaco-list-row", { hasText: "Set up these models" }).click();
    await page
      .locator(".notifications-toasts, .notification-toast")
      .getByText(/chat, completion, embedding, rerank set up and working/)
      .waitFor({ timeout: 120_000 });
  });
} catch (error) {
  if (!failed) {
    failed++;
    console.log(
      `  ✗ setup\n    ${String(error?.stack ?? error)
        .split("\n")
        .slice(0, 6)
        .join("\n    ")}`,
    );
  }
} finally {
  await browser?.close().catch(() => undefined);
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {
    // already gone
  }
  exfil.close();
  void modelHost.close();
  void nesEngine.stop();
  if (!process.env.HEARTH_UI_DEBUG) fs.rmSync(run, { recursive: true, force: true });
  else console.log(`kept ${run}`);
}
const passed = results.filter((r) => r.startsWith("  ✓")).length;
fs.writeFileSync(path.join(root, "test-results", "ui.json"), JSON.stringify({ passed, failed }));
console.log(
  `UI tests: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${path.relative(root, shots)}/)`,
);
process.exit(failed ? 1 : 0);
