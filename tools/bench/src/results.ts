/**
 * The record of one run: tools/bench/results/<date>.json holds everything measured, and
 * BENCHMARKS.md is rendered from it (figures, ratios, goals met or missed with their profiled
 * cause, the command and the machine). Rendering is a pure function of the JSON, so the file
 * can be regenerated from any stored run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CeilingResult } from './scenarios/broker-ceiling.js';
import type { CapacityResult } from './scenarios/capacity.js';
import type { DeliveryResult } from './scenarios/delivery.js';
import type { E2EResult, RampStep } from './scenarios/e2e.js';
import type { FanoutResult } from './scenarios/fanout.js';
import type { GroupResult } from './scenarios/group-plan.js';
import type { LocalDbResult } from './scenarios/local-db-plan.js';
import type { SignalsResult } from './scenarios/signals-plan.js';
import type { OverloadResult } from './scenarios/overload-plan.js';
import { CPU_SERVERS, idleSocketCost, SERVER_LABEL, type GatewayCpuResult } from './scenarios/gateway-cpu-plan.js';
import type { GoalResult } from './goal.js';
import type { MachineInfo } from './proc.js';

export type { GoalResult } from './goal.js';

export interface ProfileSummary {
  process: string;
  /** What the window covers, e.g. "scenario 3, first failing step (25000/s)". */
  window: string;
  cpuProfile: string;
  top: string;
  categories?: Record<string, number>;
}

export interface PublishPathResult {
  msgPerSec: number;
  count: number;
  raw?: Record<string, unknown>;
}

export interface LimitingStage {
  rate: number;
  verdict: string;
  chatCategories?: Record<string, number>;
  cpu: Record<string, number>;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  quick: boolean;
  command: string;
  machine: MachineInfo & { loadAverageAtStart: number[] };
  infra: { mongo: string; amqp: string };
  setup: Record<string, string | number>;
  /** Why the run's setup fell short of the scenario's stated load, when it did. */
  setupShortfall?: string;
  scenarios: {
    ceiling?: CeilingResult;
    publishPath?: PublishPathResult;
    delivery?: { ours?: DeliveryResult; ws?: DeliveryResult };
    e2e?: E2EResult;
    sendRamp?: { steps: RampStep[]; sustainableRate: number; limitingStage?: LimitingStage };
    capacity?: { ours?: CapacityResult; ws?: CapacityResult };
    fanout?: FanoutResult;
    /** Scenario 8: ours and the origin on the local database server. */
    localDb?: LocalDbResult;
    /** Scenario 9: a group, every member connected, sends at a fixed rate. */
    group?: GroupResult;
    /** Scenario 10: scenarios 3 and 4 with the typing/presence layer's traffic on and off. */
    signals?: SignalsResult;
    /** Scenario 11: CPU per delivered frame of ours, the ws reference and the raw push servers. */
    gatewayCpu?: GatewayCpuResult;
    /** Scenario 12: 3× the sustainable send rate, then ½×: goodput, fast answers, recovery (issue 17). */
    overload?: OverloadResult;
  };
  /**
   * Set only on a rendering (never stored): scenarios that come from separate partial runs
   * (BENCH_ONLY=… BENCH_WRITE_MD=1) merged into this one, see mergePartial.
   */
  partials?: PartialSource[];
  skipped: Record<string, string>;
  /** Set when the run stopped on an error; what was measured before it is still recorded. */
  error?: string;
  goals: GoalResult[];
  profiles: ProfileSummary[];
  notes: string[];
}

export interface PartialSource {
  scenarios: number[];
  command: string;
  startedAt: string;
  durationSeconds: number;
  loadAverageAtStart: number[];
  json: string;
}

/**
 * `base` with the scenarios of a partial run (BENCH_ONLY) in place of its own: their results,
 * goals, profiles and skipped entries come from `partial`, the rest from `base`, and the rendering
 * names the partial run and its JSON (`json`, repository-relative).
 */
export function mergePartial(base: BenchResults, partial: BenchResults, json: string): BenchResults {
  const nums = [...new Set(partial.goals.map((g) => g.scenario))].sort((a, b) => a - b);
  const mentions = (text: string) => nums.some((n) => new RegExp(`^scenario ${n}\\b`).test(text));
  const known = base.notes.map((n) => n.slice(0, 40));
  return {
    ...base,
    setup: { ...base.setup, ...Object.fromEntries(Object.entries(partial.setup).filter(([k]) => mentions(k))) },
    scenarios: { ...base.scenarios, ...partial.scenarios },
    skipped: { ...Object.fromEntries(Object.entries(base.skipped).filter(([k]) => !mentions(k))), ...Object.fromEntries(Object.entries(partial.skipped).filter(([k]) => mentions(k))) },
    goals: [...base.goals.filter((g) => !nums.includes(g.scenario)), ...partial.goals],
    profiles: [...base.profiles.filter((p) => !mentions(p.window)), ...partial.profiles],
    notes: [...base.notes, ...partial.notes.filter((n) => !known.includes(n.slice(0, 40)))],
    partials: [
      ...(base.partials ?? []).filter((p) => p.json !== json && !p.scenarios.some((n) => nums.includes(n))),
      { scenarios: nums, command: partial.command, startedAt: partial.startedAt, durationSeconds: partial.durationSeconds, loadAverageAtStart: partial.machine.loadAverageAtStart, json },
    ],
  };
}

/** The runs a BENCHMARKS.md was rendered from: its full run ("Raw figures") and the partial runs merged in ("its raw figures"). */
export function benchmarkSources(md: string): { base?: string; partials: string[] } {
  return {
    base: /Raw figures: \[`([^`]+)`\]/.exec(md)?.[1],
    partials: [...md.matchAll(/its raw figures: \[`([^`]+)`\]/g)].map((m) => m[1]!),
  };
}

export function writeJson(path: string, r: BenchResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(r, null, 2) + '\n');
}

const fmt = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`);
const ratio = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`);
const mark = (g: Pick<GoalResult, 'met' | 'label'>) => (g.met === null ? (g.label ? `**${g.label}**` : 'not measured') : g.met ? '**met**' : '**missed**');
const kb = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? '—' : `${(bytes / 1024).toFixed(2)} KB`);
const cores = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)} cores`);

/**
 * Scenario 5/6's headline: the figure judged. With readings after a forced GC, the slope as left
 * is left out: each step's collection resets what it counts (see capacity.ts); its steps stay in
 * the table below.
 */
function idleSocketFigure(c: CapacityResult): string {
  const heap = (b: number | undefined) => (b === undefined ? '' : `; V8 heap ${kb(b)} of it`);
  if (c.collectedRssBytesPerSocket === undefined) return `**${kb(c.rssBytesPerSocket)} RSS per idle socket**${heap(c.heapBytesPerSocket)}`;
  return `**${kb(c.collectedRssBytesPerSocket)} RSS per idle socket after a full GC**${heap(c.collectedHeapBytesPerSocket)}`;
}

export function renderMarkdown(r: BenchResults, jsonPath: string): string {
  const s = r.scenarios;
  const L: string[] = [];
  L.push('# Benchmarks', '');
  L.push(
    `One run of \`${r.command}\`, ${r.startedAt.slice(0, 19).replace('T', ' ')} UTC, ${Math.round(r.durationSeconds)} s${r.quick ? ' (BENCH_QUICK smoke run: small counts, not comparable with a full run)' : ''}. ` +
      `Raw figures: [\`${jsonPath}\`](${jsonPath}). Rerun: \`make bench\` (at most 53 minutes on 2 cores), or \`BENCH_QUICK=1 make bench\` for an 8-minute smoke run.`,
    '',
  );
  for (const p of r.partials ?? [])
    L.push(
      `Scenario${p.scenarios.length > 1 ? 's' : ''} ${p.scenarios.join(', ')} ${p.scenarios.length > 1 ? 'come' : 'comes'} from a separate run of \`${p.command}\`, ${p.startedAt.slice(0, 19).replace('T', ' ')} UTC, ${Math.round(p.durationSeconds)} s, load average ${p.loadAverageAtStart.map((v) => v.toFixed(2)).join(', ')} when it started${p.loadAverageAtStart[0]! > r.machine.cores ? ' (other work shared the machine: its CPU "outside these processes" says how much)' : ''}; its raw figures: [\`${p.json}\`](${p.json}).`,
      '',
    );
  L.push('**Machine.** ' + `${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, Linux ${r.machine.kernel}. ` +
    `Load average when the run started: ${r.machine.loadAverageAtStart.map((v) => v.toFixed(2)).join(', ')}. ` +
    `Open files: ${r.machine.fdLimit.note}.`, '');
  if (r.machine.loadAverageAtStart[0]! > r.machine.cores)
    L.push(
      `**Interference.** The load average was ${r.machine.loadAverageAtStart[0]!.toFixed(1)} on ${r.machine.cores} cores when the run started: other work shared the machine, as the "whole machine" CPU of each step shows. Absolute figures are low and noisy for it; the ratios, measured side by side in the same run, are the comparable part. Rerun on an idle machine for clean absolute figures.`,
      '',
    );
  L.push(`**Infrastructure.** MongoDB wire: ${r.infra.mongo}. RabbitMQ: ${r.infra.amqp}. Setup: ${Object.entries(r.setup).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  if (r.setupShortfall) L.push(`**Setup short of the stated load:** ${r.setupShortfall}`, '');

  if (r.error) L.push(`**The run stopped early on an error:** ${r.error}`, '');
  L.push('## Goals', '');
  L.push('| # | Goal | Target | Measured | Verdict |', '|---|---|---|---|---|');
  for (const g of r.goals) L.push(`| ${g.scenario} | ${g.what} | ${g.target} | ${g.value} | ${mark(g)} |`);
  L.push('');
  const misses = r.goals.filter((g) => g.met !== true && g.cause && g.label !== 'figure');
  if (misses.length) {
    L.push('**Causes of missed goals, and of goals without a verdict** (from CPU profiles of this run, not guesses):', '');
    for (const g of misses) L.push(`- **${g.what}:** ${g.cause}`);
    L.push('');
  }

  L.push('## Results', '');
  L.push('| # | Scenario | Figure | Ratio (same run) |', '|---|---|---|---|');
  const ceil = s.ceiling?.msgPerSec;
  if (s.ceiling) L.push(`| 1 | Broker ceiling: raw amqplib, confirms every ${s.ceiling.batch}, consumed with acks | **${fmt(s.ceiling.msgPerSec)} msg/s** (${fmt(s.ceiling.count)} × ${s.ceiling.payloadBytes} B; publish+confirm alone ${fmt(s.ceiling.publishConfirmedPerSec)}/s) | 1.00× (the ceiling) |`);
  if (s.publishPath) L.push(`| 2 | Chat confirmed publish path (outbox relay + rascal config) | **${fmt(s.publishPath.msgPerSec)} msg/s** (${fmt(s.publishPath.count)} messages) | ${ratio(ceil ? s.publishPath.msgPerSec / ceil : undefined)} of ceiling |`);
  for (const [name, d] of [['ours (uWS)', s.delivery?.ours], ['ws reference', s.delivery?.ws]] as const) {
    if (!d) continue;
    const b = d.best;
    L.push(
      `| ${name === 'ours (uWS)' ? 3 : 6} | Gateway delivery, ${name}: ${fmt(d.sockets)} sockets open, events to ${fmt(d.users)} users, ${d.framesPerEvent} frames/event | **${fmt(d.bestRate)} events/s** with p99 < 50 ms` +
        (b ? ` (p50 ${ms(b.p50Ms)}, p99 ${ms(b.p99Ms)}, ${fmt(b.framesPerSec)} frames/s; gateway ${cores(b.cpu.gateway)}, RSS ${fmt(b.gatewayRssMiB)} MiB; loadgen ${cores(b.cpu.loadgenReceivers + b.cpu.loadgenSource)}${b.loadgenLimited ? ', **loadgen-limited**' : ''})` : '') +
        ` | ${ratio(ceil ? d.bestRate / ceil : undefined)} of ceiling |`,
    );
  }
  if (s.e2e) {
    const e = s.e2e;
    L.push(
      `| 4 | End to end at ${fmt(e.targetRate)} msg/s for ${e.seconds} s, ${fmt(s.delivery?.ours?.sockets)} sockets open | **201→frame p50 ${ms(e.p50Ms)}, p99 ${ms(e.p99Ms)}, p99.9 ${ms(e.p999Ms)}** (max ${ms(e.maxMs)}; ${fmt(e.frames)}/${fmt(e.expectedFrames)} frames; ${fmt(e.framesBefore201)} frames beat their 201). Send latency p50 ${ms(e.sendP50Ms)}, p99 ${ms(e.sendP99Ms)}; ${fmt(e.ok)} × 201 of ${fmt(e.attempted)}, errors ${JSON.stringify(e.errors)}, shed ${fmt(e.skipped)}${e.loadgenLimited ? '; **loadgen-limited**' : ''} | ${ratio(ceil ? e.okPerSec / ceil : undefined)} of ceiling (send rate) |`,
    );
  }
  if (s.sendRamp) {
    const lim = s.sendRamp.limitingStage;
    L.push(`| 4 | Highest sustainable send rate (no error, nothing shed, p99 send ≤ 100 ms) | **${fmt(s.sendRamp.sustainableRate)} msg/s**${lim ? `; limit: ${lim.verdict}` : ''} | ${ratio(ceil ? s.sendRamp.sustainableRate / ceil : undefined)} of ceiling |`);
  }
  for (const [name, c] of [['ours (uWS)', s.capacity?.ours], ['ws reference', s.capacity?.ws]] as const) {
    if (!c) continue;
    L.push(
      `| ${name === 'ours (uWS)' ? 5 : 6} | Connection capacity, ${name} | ${idleSocketFigure(c)} (slope over ${c.steps.length} steps to ${fmt(c.maxSockets)} sockets); connect rate ${fmt(c.connectPerSec)}/s | ${name === 'ws reference' && s.capacity?.ours ? `ours/ws memory ${ratio(idleSocketCost(s.capacity.ours).rss / idleSocketCost(c).rss)}` : '—'} |`,
    );
  }
  if (s.delivery?.ours && s.delivery.ws) {
    const bound = r.goals.find((g) => g.id === 'uws-vs-ws-throughput')?.label === 'machine-bound';
    L.push(`| 6 | uWS vs ws delivery throughput | ours ${fmt(s.delivery.ours.bestRate)} vs ws ${fmt(s.delivery.ws.bestRate)} events/s${bound ? ' — **machine-bound**: the whole machine was busy while neither gateway saturated its core, so the ratio says nothing about the gateways (scenario 11 compares their CPU per frame)' : ''} | ${ratio(s.delivery.ours.bestRate / s.delivery.ws.bestRate)} |`);
  }
  if (s.fanout) {
    const [p1, p2] = s.fanout.phases;
    L.push(
      `| 7 | Fanout at ${fmt(s.fanout.rate)} events/s: 1 vs 2 gateways | 1 gw: ${fmt(p1?.step.framesPerSec)} frames/s, broker ${p1?.brokerDeliveriesPerEvent} deliveries and ${p1?.brokerCpuMsPerEvent} ms CPU per event; 2 gw: ${fmt(p2?.step.framesPerSec)} frames/s, ${p2?.brokerDeliveriesPerEvent} deliveries and ${p2?.brokerCpuMsPerEvent} ms CPU per event, consumed per pod ${p2?.consumedPerGateway.join(' / ')} | delivered ${ratio(s.fanout.deliveredRatio)}, broker work ${ratio(s.fanout.brokerWorkRatio)} |`,
    );
  }
  if (s.group) L.push(groupRow(s.group));
  if (s.signals) L.push(...signalsRows(s.signals));
  if (s.gatewayCpu) L.push(gatewayCpuRow(s.gatewayCpu));
  if (s.overload) L.push(overloadRow(s.overload));
  L.push('');
  if (s.fanout) L.push(`**Fanout ceiling (README, "Scaling and its ceiling").** ${s.fanout.conclusion}`, '');
  if (Object.keys(r.skipped).length) {
    L.push('**Not run in this run:**', '');
    for (const [k, v] of Object.entries(r.skipped)) L.push(`- ${k}: ${v}`);
    L.push('');
  }

  L.push('## Steps', '');
  for (const [name, d] of [['Scenario 3, ours (uWS)', s.delivery?.ours], ['Scenario 6, ws reference', s.delivery?.ws]] as const) {
    if (!d) continue;
    L.push(`**${name}: delivery ramp** (${d.stepSeconds} s per step; user-cache warm-up ${(d.warmUp.elapsedMs / 1000).toFixed(1)} s, ${d.warmUp.lostEvents} events lost to lookup timeouts)${d.error ? `. The ramp stopped early: ${d.error}` : ''}`, '');
    L.push('| injected/s | delivered events/s | frames/s | p50 | p99 | max | gateway CPU | gateway RSS | loadgen CPU (max child) | broker CPU | whole machine | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const st of d.steps)
      L.push(
        `| ${fmt(st.injectedPerSec)}${st.injectorLimited ? ' (injector-limited)' : ''} | ${fmt(st.deliveredPerSec)} | ${fmt(st.framesPerSec)} | ${ms(st.p50Ms)} | ${ms(st.p99Ms)} | ${ms(st.maxMs)} | ${cores(st.cpu.gateway)} | ${fmt(st.gatewayRssMiB)} MiB | ${cores(st.cpu.loadgenReceivers + st.cpu.loadgenSource)} (${st.cpu.loadgenReceiverMax.toFixed(2)}) | ${cores(st.cpu.broker)} | ${cores(st.cpu.machine)} | ${st.pass ? 'pass' : `fail${st.frames < st.expectedFrames ? ` (${fmt(st.expectedFrames - st.frames)} frames late or lost)` : ''}`}${st.loadgenLimited ? ', loadgen-limited' : ''}${st.firstTry ? ` (second try; the first had p99 ${ms(st.firstTry.p99Ms)})` : ''} |`,
      );
    L.push('');
  }
  if (s.sendRamp?.steps.length) {
    L.push('**Scenario 4: send ramp**', '');
    L.push('| target/s | 201/s | send p50 | send p99 | errors | shed | chat CPU | gateway CPU | other CPU | broker CPU | loadgen CPU | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const st of s.sendRamp.steps)
      L.push(
        `| ${fmt(st.targetRate)} | ${fmt(st.okPerSec)} | ${ms(st.sendP50Ms)} | ${ms(st.sendP99Ms)} | ${Object.values(st.errors).reduce((a, b) => a + b, 0)} | ${fmt(st.skipped)} | ${cores(st.cpu.others.chat)} | ${cores(st.cpu.gateway)} | ${Object.entries(st.cpu.others).filter(([k]) => k !== 'chat').map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} | ${cores(st.cpu.broker)} | ${cores(st.cpu.loadgenSource + st.cpu.loadgenReceivers)} | ${st.sustainable ? 'sustainable' : 'not sustainable'} |`,
      );
    L.push('');
    const lim = s.sendRamp.limitingStage;
    if (lim?.chatCategories) L.push(`Chat CPU profile at ${fmt(lim.rate)}/s, share of busy samples by stage: ${Object.entries(lim.chatCategories).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ')}.`, '');
  }
  for (const [name, c] of [['Scenario 5, ours (uWS)', s.capacity?.ours], ['Scenario 6, ws reference', s.capacity?.ws]] as const) {
    if (!c) continue;
    L.push(`**${name}: idle sockets** (fresh gateway, baseline RSS ${fmt(c.baselineRssMiB, 1)} MiB)`, '');
    L.push('| sockets | connect/s | RSS as left | V8 heap used as left | RSS after a full GC | V8 heap after a full GC | gateway CPU while connecting | loadgen CPU | failed |', '|---|---|---|---|---|---|---|---|---|');
    const mib = (v: number | undefined) => (v === undefined ? '—' : `${fmt(v, 1)} MiB`);
    for (const st of c.steps) L.push(`| ${fmt(st.sockets)} | ${fmt(st.connectPerSec)} | ${mib(st.rssMiB)} | ${mib(st.heapUsedMiB)} | ${mib(st.collected?.rssMiB)} | ${mib(st.collected?.heapUsedMiB)} | ${cores(st.cpu.gateway)} | ${cores(st.cpu.loadgenReceivers)} | ${st.failed}${st.failed ? ` ${JSON.stringify(st.failures)}` : ''} |`);
    L.push('');
  }

  if (s.localDb) renderLocalDb(L, r, s.localDb);
  if (s.group) renderGroup(L, s.group);
  if (s.signals) renderSignals(L, r, s.signals);
  if (s.gatewayCpu) renderGatewayCpu(L, r, s.gatewayCpu);
  if (s.overload) renderOverload(L, r, s.overload);

  if (r.profiles.length) {
    L.push('## Profiles', '');
    L.push('Top functions by self time (share of non-idle samples) in the window named, from `--cpu-prof` of that process in this run:', '');
    for (const p of r.profiles) L.push(`- **${p.process}**, ${p.window}: ${p.top}${p.categories ? `. By stage: ${Object.entries(p.categories).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ')}` : ''}`);
    L.push('');
  }

  L.push('## Method', '');
  for (const n of r.notes) L.push(`- ${n}`);
  L.push('');
  return L.join('\n');
}

/** Scenario 8's section: its goals side by side, the seeding, both ramps, the reads, the database at rest. */
function renderLocalDb(L: string[], r: BenchResults, d: LocalDbResult): void {
  L.push('## Local database (scenario 8)', '');
  L.push(
    `Ours and the origin (its write path re-implemented: Express, one \`insertOne\` into one \`messages\` collection with the plain mongodb driver, one publish to a fanout exchange; \`tools/bench/src/origin/server.ts\`) against the same MongoDB-wire server (${r.infra.mongo}), the same broker and machine, in this run, one system loaded at a time. ` +
      `Seeded: ours ${fmt(d.seed.ours.stored)} of ${fmt(d.targetStored)} messages through \`POST /chat/send\` in ${fmt(d.seed.ours.seconds)} s (${fmt(d.seed.ours.perSec, 1)}/s, ${d.seed.ours.concurrency} in flight${Object.keys(d.seed.ours.errors).length ? `, errors ${JSON.stringify(d.seed.ours.errors)}` : ''}), over ${fmt(d.users)} users in ${fmt(d.conversations)} conversations (about ${d.peersPerUser} peers each); ` +
      `the origin the same ${fmt(d.seed.origin.stored)} with \`insertMany\` in ${fmt(d.seed.origin.seconds, 1)} s. The scenario took ${fmt(d.elapsedSeconds)} s.`,
    '',
  );
  L.push('| Measure | Goal | Measured | Verdict |', '|---|---|---|---|');
  for (const g of r.goals.filter((x) => x.scenario === 8)) L.push(`| ${g.what.replace(/^Local DB: /, '')} | ${g.target} | ${g.value} | ${mark(g)}${g.met !== true && g.cause ? ' (cause above)' : ''} |`);
  L.push('');
  const rows = [...d.ramp.ours.steps.map((st) => ['ours', st] as const), ...d.ramp.origin.steps.map((st) => ['origin', st] as const)];
  if (rows.length) {
    L.push(`**Send ramp**, steps of ${d.stepSeconds} s in turn (ours, then the origin, each with the other idle); sustained = no error, nothing shed, ≥ 95 % of the target and p99 send ≤ ${d.p99BoundMs} ms; a failed step is tried once more. Sustained: ours **${fmt(d.ramp.ours.sustainedRate)}/s**, origin **${fmt(d.ramp.origin.sustainedRate)}/s**.`, '');
    L.push('| system | target/s | 201/s | send p50 | send p99 | errors | shed | its CPU | database server CPU | broker CPU | whole machine | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [who, st] of rows)
      L.push(
        `| ${who} | ${fmt(st.targetRate)} | ${fmt(st.okPerSec)} | ${ms(st.sendP50Ms)} | ${ms(st.sendP99Ms)} | ${Object.values(st.errors).reduce((a, b) => a + b, 0)} | ${fmt(st.skipped)} | ${cores(st.cpu.others.chat)} | ${cores(st.cpu.others.database)} | ${cores(st.cpu.broker)} | ${cores(st.cpu.machine)} | ${st.sustainable ? 'sustained' : 'not sustained'}${st.retry ? ' (second try)' : ''} |`,
      );
    L.push('');
  }
  const reads = [['ours, GET /chat/sync (first page)', d.sync], ['ours, GET /chat/history (limit 50)', d.history], ['origin, GET /chat/history (limit 50)', d.originHistory]] as const;
  if (reads.some(([, x]) => x)) {
    L.push('**Reads**, random users and one of their peers:', '');
    L.push('| what | requests | in flight | p50 | p99 | max | errors |', '|---|---|---|---|---|---|---|');
    for (const [what, x] of reads) if (x) L.push(`| ${what} | ${fmt(x.requests)} | ${x.concurrency} | ${ms(x.p50Ms)} | ${ms(x.p99Ms)} | ${ms(x.maxMs)} | ${x.errors} |`);
    L.push('');
  }
  const c = d.dbCpuAtRest;
  L.push(
    `**Database server at rest** (${c.waitedSeconds} s after the load stopped, over ${c.windowSeconds} s, whole process trees, chat and the origin up and idle): ` +
      (c.cores !== undefined
        ? `${(c.cores * 100).toFixed(2)}% of a core; by process: ${Object.entries(c.byProcess ?? {}).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ')}; pids from ${c.pidSource} (${c.roots?.join(', ')}).`
        : `not measured: ${c.notMeasured}.`),
    '',
  );
  const t = d.roundTrips;
  L.push(`**Round trips per send** (chat's \`chat_db_round_trips_per_request{route="POST /chat/send",status="201"}\` before and after a window of sends): ${t.mean !== undefined ? `mean ${t.mean.toFixed(2)}, max ≤ ${t.maxLe} over ${fmt(t.sends)} sends.` : `not measured: ${t.notMeasured}.`}`, '');
  if (d.notes.length) L.push(`**Cut short:** ${d.notes.join('; ')}.`, '');
}

/** Scenario 9's row of the Results table. */
function groupRow(g: GroupResult): string {
  const d = g.delivery;
  const t = g.roundTrips;
  return (
    `| 9 | A group: ${fmt(g.members)} members, every one connected (${fmt(g.socketsOpen)} sockets over ${g.socketsPerChild.length} loadgen children), ${g.senders} senders at ${fmt(g.targetRate)} msg/s for ${fmt(g.seconds)} s, \`POST /chat/send {conversationId}\` | ` +
    (d
      ? `**201→last member p50 ${ms(d.lastMember.p50Ms)}, p99 ${ms(d.lastMember.p99Ms)}** (max ${ms(d.lastMember.maxMs)}; first member p50 ${ms(d.firstMember.p50Ms)}, p99 ${ms(d.firstMember.p99Ms)}); ${fmt(d.frames)}/${fmt(d.expectedFrames)} frames, **${fmt(d.lost)} lost, ${fmt(d.duplicates)} duplicated**. ` +
        `Send latency p50 ${ms(g.send.p50Ms)}, p99 ${ms(g.send.p99Ms)}; ${fmt(g.send.ok)} × 201 of ${fmt(g.send.attempted)}, errors ${JSON.stringify(g.send.errors)}, shed ${fmt(g.send.skipped)}. ` +
        `Database round trips per group message: ${t.mean !== undefined ? `**mean ${t.mean.toFixed(2)}**, max ≤ ${t.maxLe}` : `not measured (${t.notMeasured})`}${g.timelineFanout ? `; chat's timeline fanout ${ms(g.timelineFanout.meanMs)} mean per message (max ${g.timelineFanout.maxLeMs !== undefined ? `≤ ${ms(g.timelineFanout.maxLeMs)}` : 'beyond its histogram'})` : ''}`
      : `not measured: ${g.notes.join('; ') || 'no window ran'}`) +
    // No ceiling to hold it against: a fixed rate, not a maximum.
    ' | — |'
  );
}

/** Scenario 9's section: what bounds it, the CPU per process over the window, what fell short. */
function renderGroup(L: string[], g: GroupResult): void {
  L.push('## A group (scenario 9)', '');
  L.push(
    `Group \`${g.setup.conversationId || '—'}\` created in ${ms(g.setup.createMs)} with ${fmt(g.members)} members; ${fmt(g.socketsOpen)} sockets (${g.socketsPerChild.join(' + ')} per loadgen child) opened in ${fmt(g.setup.connectSeconds, 1)} s; warm-up ${g.warmUp.messages} message(s), ${g.warmUp.complete ? 'every member got each' : 'NOT every member got each'}. The scenario took ${fmt(g.elapsedSeconds)} s.`,
    '',
  );
  if (g.limit) L.push(`**What limits it.** ${g.limit[0]!.toUpperCase()}${g.limit.slice(1)}.`, '');
  const c = g.cpu;
  if (c) {
    L.push('| chat | gateway | database server | broker | auth | loadgen (max child) | whole machine |', '|---|---|---|---|---|---|---|');
    L.push(`| ${cores(c.others.chat)} | ${cores(c.gateway)} | ${cores(c.others.database)} | ${cores(c.broker)} | ${cores(c.others.auth)} | ${cores(c.loadgenReceivers + c.loadgenSource)} (${c.loadgenReceiverMax.toFixed(2)}) | ${cores(c.machine)} |`, '');
  }
  const d = g.delivery;
  if (d && (d.incompleteMessages || d.framesWithout201 || d.lastBefore201))
    L.push(`${fmt(d.incompleteMessages)} messages missed at least one member; ${fmt(d.framesWithout201)} frames came for sends without a 201; ${fmt(d.lastBefore201)} messages reached their last member before the 201 reached the sender (counted as 0 ms).`, '');
  if (g.notes.length) L.push(`**Notes:** ${g.notes.join('; ')}.`, '');
}

/** Scenario 10's rows of the Results table: delivery and end to end, each with the layer on vs off and the ratio. */
function signalsRows(x: SignalsResult): string[] {
  const c = x.on.atCommon;
  const o = x.off.atCommon;
  const rows = [
    `| 10 | Typing + presence on vs off: scenario 3 (${fmt(x.sockets)} sockets, events to ${fmt(x.targets)} users; on = ${fmt(x.typers)} users typing every ${x.typingEveryMs / 1000} s, ${(x.reconnectSharePerMinute * 100).toFixed(0)} % of sockets reconnecting per minute) | ` +
      `**on ${fmt(x.on.bestRate)} vs off ${fmt(x.off.bestRate)} events/s** with p99 < 50 ms` +
      (c && o ? ` (at ${fmt(c.rate)}/s, both passed: p99 ${ms(c.p99Ms)} vs ${ms(o.p99Ms)}, gateway ${cores(c.gatewayCores)} vs ${cores(o.gatewayCores)}, broker ${cores(c.brokerCores)} vs ${cores(o.brokerCores)}, loadgen ${cores(c.loadgenCores)} vs ${cores(o.loadgenCores)})` : '') +
      ` | on/off ${ratio(x.deliveryRatio)} |`,
  ];
  const e = x.on.e2e;
  const f = x.off.e2e;
  if (e || f)
    rows.push(
      `| 10 | Typing + presence on vs off: end to end at ${fmt(x.e2eRate)} msg/s, ${x.e2e.length} windows ABBA | ` +
        `**on ${fmt(e?.deliveredPerSec, 1)} vs off ${fmt(f?.deliveredPerSec, 1)} msg/s delivered**; 201→frame p50 ${ms(e?.p50Ms)} vs ${ms(f?.p50Ms)}, p99 ${ms(e?.p99Ms)} vs ${ms(f?.p99Ms)}; send p99 ${ms(e?.sendP99Ms)} vs ${ms(f?.sendP99Ms)}; shed ${fmt(e?.skipped)} vs ${fmt(f?.skipped)}, errors ${fmt(e?.errors)} vs ${fmt(f?.errors)} | on/off ${ratio(x.e2eRatio)} |`,
    );
  return rows;
}

/** Scenario 10's section: how "on" was made, every step and window of both modes side by side. */
function renderSignals(L: string[], r: BenchResults, x: SignalsResult): void {
  L.push('## Typing and presence on vs off (scenario 10)', '');
  L.push(
    `Issue 14's benchmark: the layer must not slow the message path. ${fmt(x.sockets)} sockets over ${fmt(x.users)} users on one gateway. ` +
      `**On:** ${fmt(x.typers)} users each send a typing frame every ${x.typingEveryMs / 1000} s (${fmt((x.typers * 1000) / x.typingEveryMs)} frames/s, each to a 1:1 peer's sockets over \`chat.ephemeral\`), and one of the ${fmt(x.reconnectPool)} users no measured message goes to has all their sockets closed and reopened every ${fmt(x.reconnectIntervalMs)} ms (${(x.reconnectSharePerMinute * 100).toFixed(0)} % of all sockets per minute, ${x.reconnectDelayMs / 1000} s backoff, within the presence grace). ` +
      `**Off:** the same sockets idle. The typers' conversations were created first (${fmt(x.conversationsCreated.ok)} of ${fmt(x.conversationsCreated.sent)} first messages answered 201 in ${fmt(x.conversationsCreated.seconds, 1)} s). The scenario took ${fmt(x.elapsedSeconds)} s.`,
    '',
  );
  L.push('| Measure | Goal | Measured | Verdict |', '|---|---|---|---|');
  for (const g of r.goals.filter((y) => y.scenario === 10)) L.push(`| ${g.what.replace(/^Typing \+ presence on: /, '')} | ${g.target} | ${g.value} | ${mark(g)}${g.met !== true && g.cause ? ' (cause above)' : ''} |`);
  L.push('');
  if (x.steps.length) {
    L.push(`**Delivery** (scenario 3's steps of ${x.stepSeconds} s; at each rate both modes back to back, the first alternating; a failed step is retried once, and a mode stops after failing at two rates in a row):`, '');
    L.push('| injected/s | layer | delivered events/s | p50 | p99 | max | gateway CPU | broker CPU | loadgen CPU (max child) | whole machine | typing sent / received | presence frames | reconnects | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const st of x.steps) {
      const l = st.layer;
      L.push(
        `| ${fmt(st.targetRate)} | ${st.mode} | ${fmt(st.deliveredPerSec)} | ${ms(st.p50Ms)} | ${ms(st.p99Ms)} | ${ms(st.maxMs)} | ${cores(st.cpu.gateway)} | ${cores(st.cpu.broker)} | ${cores(st.cpu.loadgenReceivers + st.cpu.loadgenSource)} (${st.cpu.loadgenReceiverMax.toFixed(2)}) | ${cores(st.cpu.machine)} | ` +
          `${l ? `${fmt(l.typingSent)} / ${fmt(l.framesByType.typing ?? 0)}` : '—'} | ${l ? fmt(l.framesByType.presence ?? 0) : '—'} | ${l ? `${fmt(l.reconnects)}${Object.keys(l.reconnectFailures).length ? ` (failed ${JSON.stringify(l.reconnectFailures)})` : ''}` : '—'} | ` +
          `${st.pass ? 'pass' : `fail${st.frames < st.expectedFrames ? ` (${fmt(st.expectedFrames - st.frames)} frames late or lost)` : ''}`}${st.loadgenLimited ? ', loadgen-limited' : ''}${st.firstTry ? ` (second try; the first had p99 ${ms(st.firstTry.p99Ms)})` : ''} |`,
      );
    }
    L.push('');
  }
  if (x.e2e.length) {
    L.push(`**End to end** at ${fmt(x.e2eRate)} msg/s, windows in ABBA order:`, '');
    L.push('| window | layer | seconds | 201s | delivered msg/s | 201→frame p50 | p99 | send p99 | shed | errors | chat CPU | database CPU | gateway CPU | loadgen CPU | whole machine | typing sent / received | reconnects |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [i, w] of x.e2e.entries())
      L.push(
        `| ${i + 1} | ${w.mode} | ${fmt(w.seconds, 1)} | ${fmt(w.ok)} | ${fmt(w.deliveredPerSec, 1)} | ${ms(w.p50Ms)} | ${ms(w.p99Ms)} | ${ms(w.sendP99Ms)} | ${fmt(w.skipped)} | ${fmt(w.errors)} | ${cores(w.cpu.others.chat)} | ${cores(w.cpu.others.database)} | ${cores(w.cpu.gateway)} | ${cores(w.cpu.loadgenReceivers + w.cpu.loadgenSource)} | ${cores(w.cpu.machine)} | ${w.layer ? `${fmt(w.layer.typingSent)} / ${fmt(w.layer.framesByType.typing ?? 0)}` : '—'} | ${w.layer ? fmt(w.layer.reconnects) : '—'} |`,
      );
    L.push('');
  }
  if (x.notes.length) L.push(`**Notes:** ${x.notes.join('; ')}.`, '');
}

const us = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(1)} µs`);

/** Scenario 11's row of the Results table: µs per frame of the four servers at the judged rate. */
function gatewayCpuRow(x: GatewayCpuResult): string {
  const c = x.comparisons.find((y) => y.rate === x.judgedRate);
  return (
    `| 11 | CPU per delivered frame at ${fmt(x.judgedRate ?? x.preferredRate)} events/s (2 frames each), ${fmt(x.sockets)} sockets open: ours and the ws reference fed through the broker, raw uWS and raw ws pushing the same frames | ` +
    (c ? `**ours ${us(c.us.ours)}, ws reference ${us(c.us.ws)}, raw uWS ${us(c.us['raw-uws'])}, raw ws ${us(c.us['raw-ws'])}** of server CPU per frame` : `not measured: ${x.notes.join('; ') || 'no rate completed for every server'}`) +
    ` | ${c ? `ours ÷ raw uWS ${ratio(c.oursOverRawUws)}, ours ÷ ws ${ratio(c.oursOverWs)}` : '—'} |`
  );
}

/** Scenario 11's section: its goals, the four servers side by side per rate, every step. */
function renderGatewayCpu(L: string[], r: BenchResults, x: GatewayCpuResult): void {
  L.push('## CPU per frame (scenario 11)', '');
  L.push(
    `Issue 15's benchmark: what each server spends per frame it delivers, at fixed injected rates this machine carries. ${fmt(x.sockets)} sockets open (scenario 3's layout), events to ${fmt(x.targets)} users with 2 sockets each, ${x.stepSeconds} s per step. ` +
      `Ours (services/gateway) and the \`ws\` reference gateway (tools/bench/src/ws-gateway.ts) get the events through the broker, injected into \`chat.events\` as in scenario 3; the raw push servers (tools/bench/src/raw-push-uws.ts, raw-push-ws.ts: no broker, no JWT check, no logic) are told over HTTP to push the same events at the same rate, the same frames to the same sockets. ` +
      `CPU is the server process's utime+stime from /proc over the step (the injection and the wait for its last frames), divided by the frames delivered. The measured passes run without a profiler; ours then runs again under \`--cpu-prof\` for the profiles below. The scenario took ${fmt(x.elapsedSeconds)} s.`,
    '',
  );
  L.push('| Measure | Goal | Measured | Verdict |', '|---|---|---|---|');
  for (const g of r.goals.filter((y) => y.scenario === 11)) L.push(`| ${g.what} | ${g.target} | ${g.value} | ${mark(g)}${g.met === false && g.cause ? ' (cause above)' : ''} |`);
  L.push('');
  if (x.comparisons.length) {
    L.push(`**CPU µs per delivered frame**, each server alone on the machine in turn (a dash: not every frame arrived at that rate)${x.judgedRate !== undefined ? `; the goals are judged at ${fmt(x.judgedRate)} events/s` : ''}:`, '');
    L.push('| events/s (frames/s) | ours | ws reference | raw uWS | raw ws | ours ÷ raw uWS | ours ÷ ws | ws ÷ raw ws | raw ws ÷ raw uWS |', '|---|---|---|---|---|---|---|---|---|');
    for (const c of x.comparisons)
      L.push(`| ${fmt(c.rate)} (${fmt(c.rate * x.framesPerEvent)}) | ${us(c.us.ours)} | ${us(c.us.ws)} | ${us(c.us['raw-uws'])} | ${us(c.us['raw-ws'])} | ${ratio(c.oursOverRawUws)} | ${ratio(c.oursOverWs)} | ${ratio(c.wsOverRawWs)} | ${ratio(c.rawWsOverRawUws)} |`);
    L.push('');
  }
  const rows = [...x.runs].sort((a, b) => CPU_SERVERS.indexOf(a.server) - CPU_SERVERS.indexOf(b.server) || Number(a.profiled) - Number(b.profiled));
  if (rows.some((run) => run.steps.length)) {
    L.push('**Steps**:', '');
    L.push('| server | injected/s | delivered frames/s | p50 | p99 | max | server CPU | CPU per frame | broker CPU | loadgen CPU | whole machine | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const run of rows)
      for (const st of run.steps) {
        const t = st.step;
        const secs = (t.window.toUs - t.window.fromUs) / 1e6;
        L.push(
          `| ${SERVER_LABEL[run.server]}${run.profiled ? ' (under --cpu-prof)' : ''} | ${fmt(t.injectedPerSec)} | ${fmt(t.framesPerSec)} | ${ms(t.p50Ms)} | ${ms(t.p99Ms)} | ${ms(t.maxMs)} | ${cores(secs > 0 ? st.cpuSeconds / secs : undefined)} | ${us(st.cpuUsPerFrame)} | ${cores(t.cpu.broker)} | ${cores(t.cpu.loadgenReceivers + t.cpu.loadgenSource)} | ${cores(t.cpu.machine)} | ` +
            `${t.pass ? 'pass' : `fail${t.frames < t.expectedFrames ? ` (${fmt(t.expectedFrames - t.frames)} frames late or lost)` : ''}`}${t.loadgenLimited ? ', loadgen-limited' : ''}${t.firstTry ? ` (second try; the first had p99 ${ms(t.firstTry.p99Ms)})` : ''} |`,
        );
      }
    L.push('');
  }
  const errors = x.runs.filter((run) => run.error);
  if (x.notes.length || errors.length) L.push(`**Notes:** ${[...x.notes].join('; ')}.`, '');
}

/** Scenario 12's row of the Results table: the overload phase against the sustainable rate of the same run. */
function overloadRow(x: OverloadResult): string {
  const o = x.overload;
  const [over, rec] = x.phases;
  return (
    `| 12 | Overload: ${over ? `${fmt(over.rate)}/s` : '3×'} open loop for ${over ? over.durationMs / 1000 : '—'} s, then ${rec ? `${fmt(rec.rate)}/s` : '½×'} for ${rec ? rec.durationMs / 1000 : '—'} s, on a chat with its default admission limits | ` +
    (o
      ? `**${fmt(o.okPerSec)} × 201/s** of ${fmt(o.rate)}/s offered (sustainable: ${fmt(x.ramp.sustainedRate)}/s); **${(o.answeredWithinShare * 100).toFixed(1)} % answered within 1 s** (slowest ${ms(o.slowestMs)}); 201 p99 ${ms(o.okP99Ms)}, 503 p99 ${ms(o.shedP99Ms)}; ${(o.shedShare * 100).toFixed(1)} % shed; **back to p99 ≤ ${x.ramp.p99BoundMs} ms with nothing shed ${x.recoverySeconds === null ? `not within ${rec ? rec.durationMs / 1000 : '—'} s` : `${x.recoverySeconds} s`} after the drop**`
      : `not measured: ${x.notes.join('; ') || 'the overload run did not complete'}`) +
    ` | goodput ${ratio(x.goodputRatio)} of the sustainable rate |`
  );
}

/** Scenario 12's section: its goals, the ramp that found the sustainable rate, every second of the run. */
function renderOverload(L: string[], r: BenchResults, x: OverloadResult): void {
  L.push('## Overload (scenario 12)', '');
  const env = Object.entries(x.admissionEnv);
  L.push(
    `Issue 17's benchmark: Chat driven past what it can do must refuse the rest at once (503 \`unavailable\`, \`Retry-After\`), keep storing at its sustainable rate, and come back by itself. A chat of its own (admission limits: ${env.length ? env.map(([k, v]) => `\`${k}=${v}\``).join(', ') : "the service's defaults"}; a database of its own; no gateway), ${fmt(x.users)} users in ${fmt(x.conversations)} 1:1 conversations. ` +
      `The sustainable rate is found first in the same run; then one open-loop schedule, no retries, client timeout 5 s. The scenario took ${fmt(x.elapsedSeconds)} s.`,
    '',
  );
  L.push('| Measure | Goal | Measured | Verdict |', '|---|---|---|---|');
  for (const g of r.goals.filter((y) => y.scenario === 12)) L.push(`| ${g.what.replace(/^Overload: /, '')} | ${g.target} | ${g.value} | ${mark(g)}${g.met === false && g.cause ? ' (cause above)' : ''} |`);
  L.push('');
  if (x.ramp.steps.length) {
    L.push(`**The sustainable rate**: scenario 8's ramp plan over steps of ${x.ramp.stepSeconds} s (no error, a 503 included; nothing skipped at the client's in-flight cap; ≥ 95 % of the target; p99 send ≤ ${x.ramp.p99BoundMs} ms; a failed step is tried once more, then bisection): **${fmt(x.ramp.sustainedRate)}/s**.`, '');
    L.push('| target/s | 201/s | send p50 | send p99 | errors | skipped at the client | chat CPU | database server CPU | broker CPU | loadgen CPU | whole machine | verdict |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const st of x.ramp.steps)
      L.push(
        `| ${fmt(st.targetRate)} | ${fmt(st.okPerSec)} | ${ms(st.sendP50Ms)} | ${ms(st.sendP99Ms)} | ${Object.entries(st.errors).map(([k, v]) => `${v} × ${k}`).join(', ') || 0} | ${fmt(st.skipped)} | ${cores(st.cpu.others.chat)} | ${cores(st.cpu.others.database)} | ${cores(st.cpu.broker)} | ${cores(st.cpu.loadgenSource + st.cpu.loadgenReceivers)} | ${cores(st.cpu.machine)} | ${st.sustainable ? 'sustained' : 'not sustained'}${st.retry ? ' (second try)' : ''} |`,
      );
    L.push('');
  }
  const o = x.overload;
  const c = x.recovery;
  if (o && c) {
    const failed = (f: Record<string, number>) => Object.entries(f).map(([k, v]) => `${fmt(v)} × ${k}`).join(', ') || '0';
    L.push('| phase | offered/s | sent | 201 | 201s answered/s | 503 | other | within 1 s | 201 p50 | 201 p99 | 201 max | 503 p99 | chat CPU | database server CPU | loadgen CPU | whole machine |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [name, p, cpu] of [['overload', o, x.cpu?.overload], ['after the drop', c, x.cpu?.recovery]] as const)
      L.push(
        `| ${name} (${p.seconds} s) | ${fmt(p.rate)} | ${fmt(p.attempted)} | ${fmt(p.ok)} | ${fmt(p.okPerSec)} | ${fmt(p.shed)} | ${failed(p.failed)} | ${(p.answeredWithinShare * 100).toFixed(2)} % | ${ms(p.okP50Ms)} | ${ms(p.okP99Ms)} | ${ms(p.okMaxMs)} | ${ms(p.shedP99Ms)} | ${cores(cpu?.others.chat)} | ${cores(cpu?.others.database)} | ${cores(cpu ? cpu.loadgenSource + cpu.loadgenReceivers : undefined)} | ${cores(cpu?.machine)} |`,
      );
    L.push('');
    if (x.admissionShed || x.admissionWait)
      L.push(
        `**Chat's own account** (its /metrics before and after the run): ${x.admissionShed ? `\`chat_admission_shed_total\` ${Object.entries(x.admissionShed).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}` : 'no `chat_admission_shed_total`'}; ${x.admissionWait ? `\`chat_admission_wait_seconds\`: ${fmt(x.admissionWait.admitted)} requests admitted, mean wait ${ms(x.admissionWait.meanMs)}, the slowest ≤ ${Number.isFinite(x.admissionWait.maxLeMs) ? ms(x.admissionWait.maxLeMs) : 'beyond its largest bucket'}` : 'no `chat_admission_wait_seconds`'}.`,
        '',
      );
    if (x.clientErrors || x.listenOverflows !== undefined)
      L.push(
        `**At the client and the kernel:** requests without an answer by the client's error: ${x.clientErrors ? Object.entries(x.clientErrors).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') : 'none'}; connections the kernel dropped at a full accept queue over the run (TcpExt ListenOverflows, machine-wide): ${x.listenOverflows !== undefined ? fmt(x.listenOverflows) : 'not read'}.`,
        '',
      );
    const dropS = (x.phases[0]?.durationMs ?? 0) / 1000;
    L.push(`**Second by second** (by the time each request was sent; the drop at ${dropS} s; "meets" = 201 p99 ≤ ${x.ramp.p99BoundMs} ms, nothing shed, nothing failed):`, '');
    L.push('| second | offered/s | sent | 201 | 503 | other | 201 p99 | meets |', '|---|---|---|---|---|---|---|---|');
    for (const sec of x.seconds)
      L.push(`| ${sec.fromS}–${sec.fromS + 1} | ${fmt(sec.fromS < dropS ? x.phases[0]?.rate : x.phases[1]?.rate)} | ${fmt(sec.sent)} | ${fmt(sec.ok)} | ${fmt(sec.shed)} | ${fmt(sec.failed)} | ${sec.okP99Ms === null ? '—' : ms(sec.okP99Ms)} | ${sec.meets ? 'yes' : 'no'} |`);
    L.push('');
  }
  if (x.notes.length) L.push(`**Notes:** ${x.notes.join('; ')}.`, '');
}
