/**
 * Scenario 11 (issue 15): CPU per delivered frame at fixed injected rates the machine can carry,
 * for four servers in turn on scenario 3's socket layout (the same sockets, the same event-target
 * users with 2 sockets each): ours (services/gateway) and the `ws` reference gateway, each fed by
 * events injected into `chat.events` as scenario 3 does, then the raw uWS and raw `ws` push
 * servers (no broker, no JWT check, no logic: raw-push-uws.ts, raw-push-ws.ts), told over HTTP to
 * push the same events at the same rate. Per step: delivered frames/s, p99, and the server
 * process's utime+stime over the step → CPU µs per delivered frame. The measured passes run
 * without a profiler; ours then runs the same rates once more under --cpu-prof, for the cause of
 * a missed goal (its CPU per frame there shows the profiler's cost).
 */
import type { LoadGen } from '../loadgen/pool.js';
import type { InjectResult } from '../loadgen/protocol.js';
import { categoryShares, describeTop, profilesIn, readProfile, topSelfTime, type Category } from '../profile.js';
import { CpuMeter } from '../proc.js';
import { ProgressLine } from '../progress.js';
import type { ProfileSummary } from '../results.js';
import { round3 } from '../stats.js';
import { waitReady, type Proc } from '../stack.js';
import type { PushResult } from '../raw-push-plan.js';
import { waitCpuQuiet, waitQuiet } from './common.js';
import { deliveryStep, warmUp, type DeliveryOptions } from './delivery.js';
import { capacityFigure, compareRates, cpuStep, CPU_SERVERS, judgedRate, SERVER_LABEL, stepAt, type CpuRun, type CpuServer, type CpuStep, type GatewayCpuResult } from './gateway-cpu-plan.js';
import type { DeliveryResult } from './delivery.js';

export interface GatewayCpuConfig {
  budgetMs: number;
  /** Injected events/s, each one frame on each of the target user's 2 sockets. */
  rates: number[];
  /** The rate the goals are judged at (when every server delivered every frame there). */
  preferredRate: number;
  stepMs: number;
  /** Run ours once more under --cpu-prof at the same rates (the profiled cause of a miss). */
  profileOurs: boolean;
}

export interface GatewayCpuOptions {
  lg: LoadGen;
  amqpUrl: string;
  /** [from, to] usernames: scenario 3's pairs (the `to` users hold 2 sockets each). */
  pairs: Array<[string, string]>;
  /** Username → id of the pairs' users: injected events carry cursors, as Chat publishes them. */
  ids?: Record<string, string>;
  targets: number;
  /** One token per socket, as scenario 3 connects them (two receiver children). */
  socketTokens: string[];
  /** Starts a server (with --cpu-prof when `profile`), tracked by the caller for cleanup. */
  start: (server: CpuServer, profile: boolean) => Promise<Proc>;
  /** Scenario 3's ramp of ours in this run, for the capacity figure (undefined alone). */
  scenario3?: DeliveryResult;
  cfg: GatewayCpuConfig;
  deadline: number;
  log: (msg: string) => void;
}

export interface GatewayCpuRun {
  result: GatewayCpuResult;
  /** Ours' profile over each step of its profiled pass (call once the process has exited). */
  profiles: (categories: Category[]) => ProfileSummary[];
}

const isGateway = (s: CpuServer) => s === 'ours' || s === 'ws';
/** The unmeasured first step of every server. */
const PRIME_MS = 3_000;

export async function gatewayCpuScenario(o: GatewayCpuOptions): Promise<GatewayCpuRun> {
  const t0 = performance.now();
  const { lg, cfg } = o;
  const runs: CpuRun[] = [];
  const notes: string[] = [];
  let profiled: { proc: Proc; run: CpuRun } | undefined;
  // Each step: the step, the wait for its last frames, a retry when it failed, the drain between steps.
  const perServerMs = 25_000 + cfg.rates.length * (cfg.stepMs + 4_000);
  const passes: Array<[CpuServer, boolean]> = [...CPU_SERVERS.map((s) => [s, false] as [CpuServer, boolean]), ...(cfg.profileOurs ? [['ours', true] as [CpuServer, boolean]] : [])];

  for (const [server, profile] of passes) {
    const name = `${SERVER_LABEL[server]}${profile ? ', under --cpu-prof' : ''}`;
    if (o.deadline - performance.now() < perServerMs) {
      notes.push(`${name}: budget spent`);
      continue;
    }
    o.log(`scenario 11: ${name}: ${o.socketTokens.length} sockets, ${cfg.rates.join(', ')} events/s for ${cfg.stepMs / 1000} s each`);
    const run: CpuRun = { server, profiled: profile, socketsOpen: 0, steps: [] };
    runs.push(run);
    let proc: Proc;
    try {
      proc = await o.start(server, profile);
    } catch (err) {
      run.error = `did not start: ${(err as Error).message.split('\n')[0]}`;
      notes.push(`${name}: ${run.error}`);
      o.log(`  ${name} ${run.error}`);
      continue;
    }
    try {
      await waitReady(proc);
      const progress = new ProgressLine(`${server} connect`);
      const c0 = performance.now();
      const conn = await lg.connect(proc.url.replace(/^http/, 'ws') + '/', o.socketTokens, (opened, failed) => progress.update({ rate: opened / ((performance.now() - c0) / 1000), connections: opened, extra: failed ? `${failed} failed` : undefined }), { workers: 2 });
      progress.done();
      run.socketsOpen = conn.opened;
      o.log(`  ${conn.opened} sockets open in ${(conn.elapsedMs / 1000).toFixed(1)} s${conn.failed ? `, ${conn.failed} failed ${JSON.stringify(conn.failures)}` : ''}`);
      const opts: DeliveryOptions = {
        lg,
        gateway: proc,
        amqpUrl: o.amqpUrl,
        pairs: o.pairs,
        ids: o.ids,
        users: o.targets,
        framesPerEvent: 2,
        rates: cfg.rates,
        stepMs: cfg.stepMs,
        label: server,
        deadline: o.deadline,
        ...(isGateway(server) ? {} : { inject: (rate: number, durationMs: number) => pushOver(proc, rate, durationMs, o.pairs) }),
      };
      if (isGateway(server)) {
        const warm = await warmUp(opts, 50, `${server} warm-up`);
        run.warmUpSeconds = round3(warm.elapsedMs / 1000);
      }
      // An unmeasured step first, for every server alike: the hot path is compiled (JIT) and the
      // buffers sized before anything is timed; then the first step starts on a quiet server.
      await deliveryStep({ ...opts, stepMs: Math.min(cfg.stepMs, PRIME_MS) }, cfg.rates[0]!, [proc.pid], `${server} priming`);
      await waitQuiet(lg, 500, 10_000);
      await waitCpuQuiet([proc.pid], 0.1, 10_000);
      for (const rate of cfg.rates) {
        if (performance.now() + cfg.stepMs + 3_000 > o.deadline) {
          notes.push(`${name}: budget spent before ${rate}/s`);
          break;
        }
        let step = await measuredStep(opts, server, profile, rate, proc);
        if (!step.complete) {
          // Frames lost (one stall of another process on these 2 cores can do it): the CPU per frame
          // would not be the cost of the whole load, so the step runs once more (both are kept). A
          // p99 over the bound alone does not change the CPU spent per frame: no retry for it.
          await waitQuiet(lg, 1_000, 20_000);
          const first = step;
          step = await measuredStep(opts, server, profile, rate, proc);
          step.step.firstTry = { p99Ms: first.step.p99Ms, maxMs: first.step.maxMs, frames: first.step.frames, expectedFrames: first.step.expectedFrames };
        }
        run.steps.push(step);
        o.log(
          `  ${server}${profile ? ' (profiled)' : ''} ${rate}/s: ${step.step.framesPerSec} frames/s, p99 ${step.step.p99Ms} ms, ${step.frames}/${step.step.expectedFrames} frames; ` +
            `server ${(step.cpuSeconds / ((step.step.window.toUs - step.step.window.fromUs) / 1e6)).toFixed(3)} cores → ${step.cpuUsPerFrame ?? '—'} µs/frame; machine ${step.step.cpu.machine} cores${step.step.pass ? '' : ' (FAIL)'}`,
        );
        await waitQuiet(lg, 500, 10_000);
      }
    } catch (err) {
      run.error = (err as Error).message.split('\n')[0];
      notes.push(`${name}: ${run.error}`);
      o.log(`  ${name} failed: ${run.error}`);
    } finally {
      await lg.closeAll().catch(() => undefined);
      await proc.stop();
    }
    if (profile) profiled = { proc, run };
  }

  const comparisons = compareRates(runs, cfg.rates);
  const judged = judgedRate(comparisons, cfg.preferredRate);
  const result: GatewayCpuResult = {
    sockets: o.socketTokens.length,
    targets: o.targets,
    framesPerEvent: 2,
    stepSeconds: cfg.stepMs / 1000,
    rates: cfg.rates,
    preferredRate: cfg.preferredRate,
    ...(judged !== undefined ? { judgedRate: judged } : {}),
    runs,
    comparisons,
    eventsPerCore: capacityFigure(o.scenario3, runs),
    notes,
    elapsedSeconds: Math.round((performance.now() - t0) / 1000),
  };
  return {
    result,
    profiles: (categories) => {
      const file = profiled?.proc.profileDir ? profilesIn(profiled.proc.profileDir).pop() : undefined;
      if (!file || !profiled) return [];
      const prof = readProfile(file);
      const out: ProfileSummary[] = [];
      for (const st of profiled.run.steps) {
        const top = topSelfTime(prof, st.step.window, 8);
        const cats = categoryShares(prof, categories, st.step.window);
        const categoriesRounded = Object.fromEntries(Object.entries(cats.shares).map(([k, v]) => [k, round3(v)]));
        out.push({
          process: 'gateway (ours)',
          window: `scenario 11, ${st.step.targetRate.toLocaleString('en-US')} events/s injected, profiled pass (${st.cpuUsPerFrame ?? '—'} µs per frame under the profiler; idle ${(top.idleShare * 100).toFixed(0)}% of samples)`,
          cpuProfile: file,
          top: describeTop(top.entries, 6),
          categories: categoriesRounded,
        });
        if (st.step.targetRate === result.judgedRate) {
          const unprofiled = stepAt(runs, 'ours', st.step.targetRate);
          const stages = Object.entries(categoriesRounded).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ');
          result.cause =
            `ours' CPU profile at ${st.step.targetRate.toLocaleString('en-US')} events/s (its profiled pass: ${st.cpuUsPerFrame ?? '—'} µs per frame under the profiler, ${unprofiled?.cpuUsPerFrame ?? '—'} µs without): ` +
            `top self time ${describeTop(top.entries, 5)}; by stage ${stages}`;
        }
      }
      return out;
    },
  };
}

/** One step with the server's own CPU seconds over it (own meter: the step's rounded cores would lose precision at low rates). */
async function measuredStep(opts: DeliveryOptions, server: CpuServer, profile: boolean, rate: number, proc: Proc): Promise<CpuStep> {
  const meter = new CpuMeter(() => [proc.pid]).start();
  const step = await deliveryStep(opts, rate, [proc.pid], `${server}${profile ? ' (prof)' : ''}`);
  return cpuStep(server, profile, step, meter.seconds());
}

/** A raw push server's step: `POST /push`, answered once the pushing is done. */
async function pushOver(proc: Proc, rate: number, durationMs: number, pairs: Array<[string, string]>): Promise<InjectResult> {
  const res = await fetch(`${proc.url}/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate, durationMs, pairs }), signal: AbortSignal.timeout(durationMs + 30_000) });
  if (!res.ok) throw new Error(`${proc.name} /push: ${res.status} ${await res.text()}`);
  const r = (await res.json()) as PushResult;
  return { sent: r.sent, elapsedMs: r.elapsedMs, drains: 0 };
}
