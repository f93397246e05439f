/**
 * `npm run eval:completion` — fill-in-the-middle quality on a package no lab model was trained on (lodash-es
 * 4.17.21, a devDependency; the lab's held-out package), through the real sidecar (`completion/infill`, greedy).
 *
 *   npm run eval:completion [-- --model <fim.gguf>] [--single N] [--multi N] [--show N]
 *
 * - Single-line middles: a code line (not a comment) is removed after its indentation; the cursor is where it
 *   was; the suggestion must reproduce it. Exact match (trailing whitespace ignored) against the trivial
 *   baselines, computed on the same positions: the empty suggestion, repeating the previous non-blank line, and
 *   always "}" (the most common line of JavaScript).
 * - Multi-line middles: 2–6 whole lines removed. The raw output is the sidecar's without `language`: like every
 *   multi-line request, its generation already stops at a line that repeats the one before it (a loop). Reported:
 *   how often the suggestion spans several lines, how many generations stopped at a repeated line, and how often
 *   the file with the suggestion put back parses (TypeScript's parser, no syntax errors) — against the empty
 *   suggestion and the repeated previous lines — for the raw output and for what the editor would show: the
 *   sidecar's syntax cut (`trimToSyntaxOf`, what `language: "javascript"` runs) then the client's `postprocess`.
 *   And, for the suggestions of several lines, how often they continue the code before them without a syntax error
 *   whatever follows (`continuesCleanly`: well-formed code in its place, not necessarily the right code), against
 *   the repeated previous lines and real lines of held-out code taken from another position.
 * Positions are drawn with a fixed seed. Nothing here asserts a figure; it reports.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SidecarProcess } from "../common/sidecar/SidecarProcess";
import { postprocess } from "../common/completion/postprocess";
import { trimToSyntaxOf } from "../sidecar/completion/syntaxTrim";
import { continuesCleanly, drawCases, parses, type FimCase } from "./fimBenchmark";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values } = parseArgs({
  options: {
    model: { type: "string", default: path.join(repo, "lab", "models", "hearth-lab-code-fim.gguf") },
    package: { type: "string", default: path.join(repo, "node_modules", "lodash-es") },
    single: { type: "string", default: "300" },
    multi: { type: "string", default: "100" },
    show: { type: "string", default: "0" },
    threads: { type: "string", default: "1" },
    seed: { type: "string", default: "7" },
  },
});

const same = (a: string, b: string) => a.replace(/\s+$/g, "") === b.replace(/\s+$/g, "");
const pctOf = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`.padStart(8);

async function main(): Promise<void> {
  const names = (await fs.readdir(values.package!)).filter((f) => f.endsWith(".js")).sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, text: await fs.readFile(path.join(values.package!, name), "utf8") })),
  );
  const pkg = JSON.parse(await fs.readFile(path.join(values.package!, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const seed = Number(values.seed);
  const single = drawCases(files, Number(values.single), [1, 1], seed);
  const multi = drawCases(files, Number(values.multi), [2, 6], seed + 1);
  console.log(
    `Held-out package ${pkg.name}@${pkg.version}: ${single.length} single-line and ${multi.length} multi-line middles (seed ${seed})`,
  );

  const work = await fs.mkdtemp(path.join(os.tmpdir(), "hearth-eval-fim-"));
  const sidecar = new SidecarProcess({
    sidecarPath: path.join(here, "sidecar.mjs"),
    init: { modelsDir: path.join(work, "models"), threads: Number(values.threads), gpu: "off", allowDownload: false },
  });
  await sidecar.start();
  const infill = (c: FimCase, singleLine: boolean) =>
    sidecar.request("completion/infill", {
      prefix: c.prefix,
      suffix: c.suffix,
      prefixTokens: 192,
      suffixTokens: 64,
      maxTokens: singleLine ? 48 : 96,
      singleLine,
    });
  /** What the editor shows for a raw suggestion: the client's post-processing, "" when it drops it. */
  const shown = (c: FimCase, text: string, multiline: boolean) => {
    const p = postprocess(text, c.prefix, c.suffix, multiline);
    return "text" in p ? p.text : "";
  };
  const show = Number(values.show);
  let ms = 0;
  let tokens = 0;
  try {
    const loaded = await sidecar.request("model/load", {
      role: "completion",
      model: { uri: path.resolve(values.model!) },
      contextSize: 512,
    });
    console.log(`Model: ${path.basename(values.model!)} (${(loaded.sizeBytes / 1024 / 1024).toFixed(1)} MiB)`);
    let model = 0;
    let repeat = 0;
    let empty = 0;
    let brace = 0;
    let modelShown = 0;
    let closersOnly = 0;
    for (const [i, c] of single.entries()) {
      const r = await infill(c, true);
      ms += r.timings.totalMs;
      tokens += r.usage.completionTokens;
      if (same(r.text, c.middle)) {
        model++;
        if (/^[)\]};,\s]+$/.test(c.middle)) closersOnly++;
      }
      if (same(shown(c, r.text, false), c.middle)) modelShown++;
      if (same(c.previous, c.middle)) repeat++;
      if (same("", c.middle)) empty++;
      if (same("}", c.middle)) brace++;
      if (i < show) console.log(`  ${c.file}: want ${JSON.stringify(c.middle)} got ${JSON.stringify(r.text)}`);
    }
    const n = single.length;
    console.log("");
    console.log("Single-line middles: exact match");
    console.log(`  empty suggestion (baseline)          ${pctOf(empty, n)}`);
    console.log(`  repeat previous line (baseline)      ${pctOf(repeat, n)}`);
    console.log(`  always "}" (baseline)                ${pctOf(brace, n)}`);
    console.log(
      `  model                                ${pctOf(model, n)}   (${model}/${n}; ${model - closersOnly} of them more than closing brackets)`,
    );
    console.log(`  model, as shown (postprocess)        ${pctOf(modelShown, n)}   (${modelShown}/${n})`);

    const ok = { empty: 0, repeat: 0, truth: 0 };
    // Syntactic plausibility whatever follows: prefix + lines is a valid beginning of a program.
    const clean = { truth: 0, repeat: 0, elsewhere: 0 };
    let loops = 0;
    type Tally = { parses: number; multi: number; multiParses: number; multiClean: number; exact: number };
    const variants: { raw: Tally; shown: Tally & { linesCut: number } } = {
      raw: { parses: 0, multi: 0, multiParses: 0, multiClean: 0, exact: 0 },
      shown: { parses: 0, multi: 0, multiParses: 0, multiClean: 0, exact: 0, linesCut: 0 },
    };
    const count = (v: Tally, c: FimCase, text: string) => {
      const good = parses(c.prefix + text + c.suffix);
      if (good) v.parses++;
      if (text.trim().includes("\n")) {
        v.multi++;
        if (good) v.multiParses++;
        if (continuesCleanly(c.prefix, text)) v.multiClean++;
      }
      if (same(text, c.middle)) v.exact++;
    };
    for (const [i, c] of multi.entries()) {
      const r = await infill(c, false);
      if (r.stopReason === "repeatedLine") loops++;
      ms += r.timings.totalMs;
      tokens += r.usage.completionTokens;
      count(variants.raw, c, r.text);
      // The sidecar's syntax cut (what `language: "javascript"` asks of it), applied here to the same raw text
      // rather than generating it a second time.
      const cut = await trimToSyntaxOf("javascript", c.prefix, r.text, c.suffix);
      variants.shown.linesCut += cut.linesCut;
      const text = shown(c, cut.text, true);
      count(variants.shown, c, text);
      if (parses(c.prefix + c.suffix)) ok.empty++;
      if (parses(c.prefix + c.previous + c.suffix)) ok.repeat++;
      if (parses(c.prefix + c.middle + c.suffix)) ok.truth++;
      if (continuesCleanly(c.prefix, c.middle)) clean.truth++;
      if (continuesCleanly(c.prefix, c.previous)) clean.repeat++;
      // Real lines of held-out code, from another position (the next case's middle): well-formed code, out of place.
      if (continuesCleanly(c.prefix, multi[(i + 1) % multi.length]!.middle)) clean.elsewhere++;
      if (i < show)
        console.log(
          `  ${c.file}: want ${JSON.stringify(c.middle)}\n  raw ${JSON.stringify(r.text)}\n  shown ${JSON.stringify(text)}`,
        );
    }
    const m = multi.length;
    console.log("");
    console.log(
      `Multi-line middles (2–6 lines): the file parses with the suggestion put back (original file: ${pctOf(ok.truth, m).trim()})`,
    );
    console.log(`  empty suggestion (baseline)          ${pctOf(ok.empty, m)}`);
    console.log(`  repeat previous lines (baseline)     ${pctOf(ok.repeat, m)}`);
    for (const [name, v] of Object.entries(variants)) {
      const label = name === "raw" ? "model, raw output" : "model, as shown (syntax cut + postprocess)";
      console.log(
        `  ${label.padEnd(36)} ${pctOf(v.parses, m)}   (exact: ${v.exact}/${m}; of several lines: ${v.multi}/${m}, of which the file parses: ${v.multiParses}/${v.multi})`,
      );
    }
    console.log(
      `  lines cut by the syntax check: ${variants.shown.linesCut}; generations stopped at a repeated line (a loop): ${loops}`,
    );
    console.log("");
    console.log(
      "Multi-line middles: the lines continue the code before them without a syntax error (whatever follows)",
    );
    console.log(`  the original lines                   ${pctOf(clean.truth, m)}`);
    console.log(`  repeat previous lines (baseline)     ${pctOf(clean.repeat, m)}`);
    console.log(`  lines from elsewhere (baseline)      ${pctOf(clean.elsewhere, m)}`);
    for (const [name, v] of Object.entries(variants)) {
      const label = name === "raw" ? "model, raw, of several lines" : "model, as shown, of several lines";
      console.log(`  ${label.padEnd(36)} ${pctOf(v.multiClean, Math.max(1, v.multi))}   (${v.multiClean}/${v.multi})`);
    }
    console.log("");
    console.log(
      `Latency: ${(ms / (n + m)).toFixed(1)} ms per suggestion, ${(tokens / (ms / 1000)).toFixed(0)} generated tokens/s (${values.threads} thread)`,
    );
  } finally {
    await sidecar.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
