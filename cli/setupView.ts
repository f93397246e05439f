/** How `hearth setup` shows a plan and a download on a terminal. */
import type { SetupPlan } from "../shared/protocol";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;
const mib = (bytes: number) => `${Math.ceil(bytes / MIB).toLocaleString("en")} MiB`;

const VERDICT_WORDS = { fits: "fits", "cpu-only": "fits on CPU only", "too-large": "too large" } as const;

/**
 * The plan as text: the machine and budget, one block per role (model, download, estimated memory, where it runs
 * and whether it fits, the alternatives), the problems, and the facts the catalog does not know.
 */
export function formatPlan(plan: SetupPlan): string {
  const m = plan.machine;
  const gpu = m.gpu
    ? `${m.gpu.name ?? m.gpu.type}, ${gib(m.gpu.vramTotalBytes)} VRAM (${gib(m.gpu.vramFreeBytes)} free)`
    : "no GPU";
  const lines = [
    `Machine${m.overridden ? " (as told)" : ""}: ${gib(m.ramTotalBytes)} RAM (${gib(m.ramFreeBytes)} available), ${gpu}, ${m.cpuCores} cores`,
    `Budget for the models: ${gib(plan.budget.ramBytes)} RAM${plan.budget.vramBytes ? ` + ${gib(plan.budget.vramBytes)} VRAM` : ""} (${gib(plan.budget.reserveBytes)} left for the system and the editor)`,
    `Catalog: ${plan.catalog.source} (${plan.catalog.entries} models)`,
    "",
  ];
  for (const r of plan.roles) {
    if (!r.model) {
      lines.push(`${r.role.padEnd(11)} none fits`);
      continue;
    }
    const where = r.placement === "gpu" ? "GPU" : "CPU";
    const shared = r.sharedWith ? `, the same model as ${r.sharedWith}` : "";
    const download = r.model.source === "local" ? "on this machine" : `download ${mib(r.model.downloadBytes)}`;
    const estimate = r.estimate.source === "parameters" ? " (rough: header not read)" : "";
    lines.push(
      `${r.role.padEnd(11)} ${r.model.name}`,
      `${"".padEnd(11)} ${download}; memory ${gib(r.estimate.bytes)}${estimate} with a ${r.contextSize}-token context; ${where}, ${VERDICT_WORDS[r.verdict]}${shared}`,
    );
    const others = r.alternatives.slice(0, 3).map((a) => `${a.model.name} ${gib(a.bytes)} ${VERDICT_WORDS[a.verdict]}`);
    if (others.length) lines.push(`${"".padEnd(11)} also: ${others.join("; ")}`);
  }
  lines.push("", `Together: ${gib(plan.totalBytes)} of memory, ${mib(plan.downloadBytes)} to download.`);
  for (const e of plan.engines)
    lines.push(
      `Already running here: ${e.kind} at ${e.url} (${e.models.map((m) => m.id).join(", ")}); any role can use it instead (--engine-url, hearth.engines.<role>).`,
    );
  for (const p of plan.problems) lines.push(`! ${p}`);
  if (plan.catalog.unknownFacts.length)
    lines.push(
      `Unknown to the catalog (read at download time where the hub says): ${plan.catalog.unknownFacts.length} facts (--json lists them).`,
    );
  return lines.join("\n");
}

/** One download's progress line on stderr: bytes, speed, ETA; redrawn at most 10 times a second. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly tty: boolean,
  ) {
    if (!tty) process.stderr.write(`Downloading ${label}…\n`);
  }

  update(done: number, total: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const speed = done / seconds;
    const eta = total > done && speed > 0 ? Math.ceil((total - done) / speed) : 0;
    const pct = total ? Math.floor((done / total) * 100) : 0;
    process.stderr.write(
      `\r\x1b[K${this.label}: ${pct}% ${mib(done)} / ${mib(total)}, ${(speed / MIB).toFixed(1)} MiB/s, ${eta} s left`,
    );
  }

  done(bytes: number, note: string): void {
    process.stderr.write(`${this.tty ? "\r\x1b[K" : ""}${this.label}: ${mib(bytes)}, ${note}\n`);
  }
}
