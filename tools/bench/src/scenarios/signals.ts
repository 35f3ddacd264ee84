/**
 * Scenario 10 (issue 14): does the typing/presence layer slow the message path? Scenario 3
 * (events injected into `chat.events`, delivered by the gateway) and the end-to-end scenario
 * (`POST /chat/send` → socket) each run with the layer's traffic on and off, in the same run, on
 * the same gateway, sockets and settings:
 *
 *   - delivery: at each injected rate the two modes run back to back, the first one alternating
 *     (off/on, on/off, …), each step as scenario 3 judges it (every frame, p99 < 50 ms; a failed
 *     step is tried once more); a mode stops after failing at two rates in a row (one failure on
 *     this shared machine can be a stall); the ratio is on ÷ off of the highest passing
 *     delivered rate;
 *   - end to end: windows at the scenario's send rate in ABBA order (off, on, on, off), so a drift
 *     over time cancels; the ratio is on ÷ off of the messages delivered per second.
 *
 * "On" is what the issue names: every connected user sends a typing frame every 5 s into a 1:1
 * conversation they have with a connected user (so each one fans out to the peer's sockets on
 * the ephemeral exchange), and 10 % of the sockets per minute close and reconnect (a user's
 * sockets together, evenly over the minute, after a 1 s backoff), which is presence traffic:
 * offline/online signals that every presence table applies (the grace absorbs the flap, as it
 * would in production). The reconnecting users are the ones no measured message goes to, so a
 * reconnect's gap is not counted as a lost frame; the typers are everyone.
 */
import { randomBytes } from 'node:crypto';
import type { LoadGen } from '../loadgen/pool.js';
import { categoryShares, describeTop, profilesIn, readProfile, stackShare, topSelfTime, type Category, type CpuProfileNode, type TimeWindow } from '../profile.js';
import type { ProfileSummary } from '../results.js';
import { LatencyHistogram, round3, type HistogramSnapshot } from '../stats.js';
import type { BenchUser, Proc } from '../stack.js';
import { waitCpuQuiet, waitQuiet } from './common.js';
import { deliveryStep, warmUp, type DeliveryOptions } from './delivery.js';
import { endToEndWindow } from './e2e.js';
import {
  abbaOrder,
  firstDivergence,
  layerRatio,
  modeDone,
  reconnectIntervalMs,
  stepOrder,
  summarizeSteps,
  typingAssignments,
  typingPartner,
  type LayerDeliveryStep,
  type LayerE2EWindow,
  type LayerMode,
  type LayerTraffic,
  type SignalsConfig,
  type SignalsResult,
} from './signals-plan.js';

export interface SignalsOptions {
  lg: LoadGen;
  gateway: Proc;
  /** Chat, for the end-to-end half and the conversations the typers type in; without it only the delivery half runs. */
  chat?: Proc;
  amqpUrl: string;
  /** Every user holding a socket, in registration order (scenario 3's layout). */
  users: BenchUser[];
  /** Their tokens, index for index. */
  tokens: string[];
  /** The first `targets` users get scenario 3's events (and are scenario 4's pairs): they never reconnect. */
  targets: number;
  /** User index of every socket the load generator holds (all children). */
  socketUsers: number[];
  deliveryPairs: Array<[string, string]>;
  /**
   * Username → id of those pairs' users. Not used for injection here: this scenario's users also
   * get real messages (the first messages of the typing pairs, the end-to-end windows), whose
   * cursors an injector's own seqs would collide with (a socket would skip real frames as
   * duplicates); its injected events stay cursorless, the same in both modes.
   */
  deliveryIds?: Record<string, string>;
  e2ePairs: Array<{ token: string; to: string }>;
  /** Other processes worth metering end to end (auth, database). */
  extras: Record<string, number[]>;
  cfg: SignalsConfig;
  deadline: number;
  log: (msg: string) => void;
}

export interface SignalsRun {
  result: SignalsResult;
  /** After the gateway and chat stopped (their --cpu-prof is written on exit): profiles over the windows that tell the modes apart, and the causes of a miss. */
  profile(gateway: Proc, chat: Proc | undefined, gatewayCategories: Category[], chatCategories: Category[]): ProfileSummary[];
}

const SETTLE_MS = 1_000;
const E2E_FRAMES_PER_MESSAGE = 4;
const E2E_MAX_IN_FLIGHT = 256;

/** The layer's own code, by file: what "the layer's share" of a process's CPU counts (everything it called included). */
const GATEWAY_LAYER = /services\/gateway\/src\/(typing|live-signals|presence-reporter|audience-client|keyed-throttle)\.ts|services\/common\/src\/(signal-bus|presence-table|signals)\.ts/;
const CHAT_LAYER = /services\/chat\/src\/(presence|contacts|last-seen-repo|routes\/presence|routes\/internal)\.ts|services\/common\/src\/(signal-bus|presence-table|signals)\.ts/;
const inLayer = (re: RegExp) => (f: CpuProfileNode['callFrame']) => re.test(f.url);

export async function signalsScenario(o: SignalsOptions): Promise<SignalsRun> {
  const { cfg, lg, log } = o;
  const t0 = performance.now();
  const users = o.users;
  const victimIdx = users.map((_, i) => i).filter((i) => i >= o.targets);
  const victims = victimIdx.map((i) => users[i]!.id);
  const victimSet = new Set(victimIdx);
  const victimSockets = o.socketUsers.filter((u) => victimSet.has(u)).length;
  const interval = reconnectIntervalMs(o.socketUsers.length, victims.length ? victimSockets / victims.length : 1, cfg.reconnectSharePerMinute);
  const typers = typingAssignments(users, lg.receivers.length);
  const result: SignalsResult = {
    sockets: o.socketUsers.length,
    users: users.length,
    targets: o.targets,
    typers: typers.reduce((a, t) => a + t.length, 0),
    reconnectPool: victims.length,
    reconnectIntervalMs: round3(interval),
    typingEveryMs: cfg.typingEveryMs,
    reconnectSharePerMinute: cfg.reconnectSharePerMinute,
    reconnectDelayMs: cfg.reconnectDelayMs,
    conversationsCreated: { sent: 0, ok: 0, seconds: 0 },
    stepSeconds: cfg.stepMs / 1000,
    steps: [],
    e2eRate: cfg.e2eRate,
    e2e: [],
    off: {},
    on: {},
    notes: [],
    elapsedSeconds: 0,
  };
  if (!victims.length) result.notes.push('no user outside the measured ones: nobody reconnects');
  const epochMs = performance.timeOrigin + performance.now();
  const layerSpec = { epochMs, typers, typingEveryMs: cfg.typingEveryMs, victims, reconnectEveryMs: interval, reconnectDelayMs: cfg.reconnectDelayMs, timeoutMs: 15_000 };
  log(
    `scenario 10: typing + presence layer on vs off: ${result.sockets} sockets over ${users.length} users; on = ${result.typers} users typing every ${cfg.typingEveryMs / 1000} s ` +
      `(${Math.round((result.typers * 1000) / cfg.typingEveryMs)} typing frames/s) and ${(cfg.reconnectSharePerMinute * 100).toFixed(0)} % of the sockets reconnecting per minute (a user of the ${victims.length} unmeasured ones every ${Math.round(interval)} ms, ${cfg.reconnectDelayMs} ms backoff)`,
  );

  const dbPids = o.extras.database ?? [];
  const traffic = async (mode: LayerMode): Promise<void> => {
    if (mode === 'on') {
      await lg.layerOn(layerSpec);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
  };
  const trafficDone = async (mode: LayerMode, framesByType: Record<string, number>): Promise<LayerTraffic | undefined> => {
    if (mode === 'off') return undefined;
    const c = await lg.layerOff();
    return { ...c, seconds: round3(c.seconds), framesByType };
  };

  try {
    // ---- Setup: the typers' 1:1 conversations exist, caches are warm ----------------------------
    if (o.chat) {
      // One message per typing pair, so each typer types in a conversation they have (their peer is a
      // contact, as presence counts contacts), and one per end-to-end pair (chat's recipient cache).
      const convPairs = users.flatMap((u, i) => {
        const p = typingPartner(i, users.length);
        return p > i ? [{ token: o.tokens[i]!, to: users[p]!.username }] : [];
      });
      const pairs = [...convPairs, ...o.e2ePairs];
      // Open loop at a modest rate, then again for the pairs that got no 201 (shed while chat's caches were cold), 3 passes at most.
      const rate = 200;
      const c0 = performance.now();
      let pending = pairs;
      let sentTotal = 0;
      const errors: Record<string, number> = {};
      for (let pass = 0; pass < 3 && pending.length; pass++) {
        const sent = await lg.send({ chatUrl: o.chat.url, rate, durationMs: Math.ceil((pending.length / rate) * 1000), pairs: pending, maxInFlight: 64, tag: `c${randomBytes(3).toString('hex')}` });
        sentTotal += sent.attempted;
        for (const [k, v] of Object.entries(sent.errors)) errors[k] = (errors[k] ?? 0) + v;
        const ok = new Set(sent.acked.map(([key]) => Number(key.split('.')[1]) % pending.length));
        pending = pending.filter((_, i) => !ok.has(i));
      }
      result.conversationsCreated = { sent: sentTotal, ok: pairs.length - pending.length, seconds: round3((performance.now() - c0) / 1000) };
      log(`  first messages: ${pairs.length - pending.length}/${pairs.length} pairs answered 201 (${convPairs.length} typing pairs, ${o.e2ePairs.length} end-to-end pairs; ${sentTotal} sends) in ${result.conversationsCreated.seconds} s${Object.keys(errors).length ? `, errors ${JSON.stringify(errors)}` : ''}`);
      if (pending.length) result.notes.push(`${pending.length} of ${pairs.length} first messages got no 201 in 3 passes: some typers type in a conversation chat has no message of (typing does not need one; presence contacts do)`);
    } else result.notes.push('chat is not running: the typers type in 1:1 conversations with no message yet (typing needs none), and the end-to-end half cannot run');
    const deliveryOpts: DeliveryOptions = { lg, gateway: o.gateway, amqpUrl: o.amqpUrl, pairs: o.deliveryPairs, users: o.targets, framesPerEvent: 2, rates: cfg.rates, stepMs: cfg.stepMs, label: 'layer', deadline: o.deadline };
    await warmUp(deliveryOpts, 50, 'scenario 10 warm-up');
    await waitQuiet(lg, 500, 10_000);
    if (o.chat) await waitCpuQuiet([o.chat.pid, ...dbPids], 0.3, 20_000);

    // ---- Scenario 3, both modes step by step -----------------------------------------------------
    const e2eReserve = o.chat ? (cfg.e2eSegments * (cfg.e2eSegmentSeconds + 8) + 5) * 1000 : 0;
    const stepDeadline = o.deadline - e2eReserve;
    const runStep = async (mode: LayerMode, rate: number): Promise<LayerDeliveryStep> => {
      await traffic(mode);
      let st;
      try {
        st = await deliveryStep(deliveryOpts, rate, [o.gateway.pid], `${mode === 'on' ? 'layer ON ' : 'layer off'} delivery`);
      } catch (err) {
        if (mode === 'on') await lg.layerOff().catch(() => undefined);
        throw err;
      }
      const s = await lg.stats();
      return { ...st, mode, layer: await trafficDone(mode, s.otherByType) };
    };
    const done = (m: LayerMode) => modeDone(result.steps, m);
    for (const [i, rate] of cfg.rates.entries()) {
      if (done('off') && done('on')) break;
      const modes = stepOrder(i).filter((m) => !done(m));
      if (performance.now() + modes.length * (cfg.stepMs + 6_000) > stepDeadline) {
        result.notes.push(`the delivery comparison stopped before ${rate}/s: budget`);
        break;
      }
      for (const mode of modes) {
        let st = await runStep(mode, rate);
        if (!st.pass) {
          // As scenario 3: one transient stall can fail a step the gateway sustains; run it once more.
          await waitQuiet(lg, 1_000, 30_000);
          const first = st;
          st = await runStep(mode, rate);
          st.firstTry = { p99Ms: first.p99Ms, maxMs: first.maxMs, frames: first.frames, expectedFrames: first.expectedFrames };
        }
        result.steps.push(st);
        const l = st.layer;
        log(
          `  ${mode === 'on' ? 'layer ON ' : 'layer off'} ${rate}/s: delivered ${st.deliveredPerSec}/s, p99 ${st.p99Ms} ms, frames ${st.frames}/${st.expectedFrames}, cpu gw ${st.cpu.gateway} loadgen ${round3(st.cpu.loadgenReceivers + st.cpu.loadgenSource)} broker ${st.cpu.broker} machine ${st.cpu.machine}` +
            (l ? `; typing ${l.typingSent} sent (${l.typingSkipped} skipped), received ${l.framesByType.typing ?? 0}; presence frames ${l.framesByType.presence ?? 0}; ${l.reconnects} reconnects${Object.keys(l.reconnectFailures).length ? ` (failed ${JSON.stringify(l.reconnectFailures)})` : ''}` : '') +
            ` → ${st.pass ? 'pass' : 'FAIL'}${st.firstTry ? ' (second try)' : ''}`,
        );
        await waitQuiet(lg, 1_000, 30_000);
      }
    }
    const summary = summarizeSteps(result.steps);
    result.off = summary.off;
    result.on = summary.on;
    result.deliveryRatio = layerRatio(result.on.bestRate, result.off.bestRate);
    if (result.deliveryRatio === undefined && result.steps.length) result.deliveryCause = noPassCause(result);
    for (const m of ['off', 'on'] as const) if (result.steps.some((st) => st.mode === m) && !done(m)) result.notes.push(`the layer-${m} ramp did not reach its limit (two failed rates in a row) before ${result.steps.filter((st) => st.mode === m).pop()!.targetRate < cfg.rates[cfg.rates.length - 1]! ? 'the budget ran out' : 'its last rate'}: its best is a lower bound`);
    log(`  delivery: off ${result.off.bestRate ?? '—'} events/s, on ${result.on.bestRate ?? '—'} events/s → ${result.deliveryRatio?.toFixed(2) ?? '—'}×`);

    // ---- End to end, ABBA ------------------------------------------------------------------------
    if (o.chat) {
      const chat = o.chat;
      const merged: Record<LayerMode, { latency: HistogramSnapshot[]; send: HistogramSnapshot[]; seconds: number; ok: number; frames: number; expected: number; errors: number; skipped: number }> = {
        off: { latency: [], send: [], seconds: 0, ok: 0, frames: 0, expected: 0, errors: 0, skipped: 0 },
        on: { latency: [], send: [], seconds: 0, ok: 0, frames: 0, expected: 0, errors: 0, skipped: 0 },
      };
      const sendOpts = { lg, chat, gateway: o.gateway, pairs: o.e2ePairs, extras: o.extras, maxInFlight: E2E_MAX_IN_FLIGHT };
      for (const mode of abbaOrder(cfg.e2eSegments)) {
        if (performance.now() + (cfg.e2eSegmentSeconds + 5) * 1000 > o.deadline) {
          result.notes.push('the end-to-end comparison was cut short by the budget');
          break;
        }
        await traffic(mode);
        let w;
        try {
          w = await endToEndWindow({ ...sendOpts, rate: cfg.e2eRate, seconds: cfg.e2eSegmentSeconds, framesPerMessage: E2E_FRAMES_PER_MESSAGE, label: `${mode === 'on' ? 'layer ON ' : 'layer off'} e2e @${cfg.e2eRate}/s` });
        } catch (err) {
          if (mode === 'on') await lg.layerOff().catch(() => undefined);
          throw err;
        }
        const s = await lg.stats();
        const layer = await trafficDone(mode, s.otherByType);
        const r = w.result;
        const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
        const seconds = w.elapsedMs / 1000;
        const win: LayerE2EWindow = {
          mode,
          seconds: round3(seconds),
          attempted: r.attempted,
          ok: r.ok,
          deliveredPerSec: round3(r.frames / E2E_FRAMES_PER_MESSAGE / seconds),
          frames: r.frames,
          expectedFrames: r.expectedFrames,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          sendP99Ms: r.sendP99Ms,
          errors,
          skipped: r.skipped,
          cpu: r.cpu,
          window: r.window,
          ...(layer ? { layer } : {}),
        };
        result.e2e.push(win);
        const m = merged[mode];
        m.latency.push(w.latency);
        m.send.push(w.sendLatency);
        m.seconds += seconds;
        m.ok += r.ok;
        m.frames += r.frames;
        m.expected += r.expectedFrames;
        m.errors += errors;
        m.skipped += r.skipped;
        log(
          `  ${mode === 'on' ? 'layer ON ' : 'layer off'} e2e ${cfg.e2eRate}/s × ${cfg.e2eSegmentSeconds} s: ${win.deliveredPerSec} msg/s delivered (${r.ok}/${r.attempted} × 201, shed ${r.skipped}, errors ${errors}), 201→frame p99 ${r.p99Ms} ms, send p99 ${r.sendP99Ms} ms; cpu chat ${r.cpu.others.chat} db ${r.cpu.others.database ?? '—'} gw ${r.cpu.gateway} machine ${r.cpu.machine}` +
            (layer ? `; typing ${layer.typingSent} sent, ${layer.framesByType.typing ?? 0} received, ${layer.reconnects} reconnects` : ''),
        );
        await waitQuiet(lg, 1_000, 10_000);
        await waitCpuQuiet([chat.pid, ...dbPids], 0.3, Math.max(0, Math.min(20_000, o.deadline - performance.now() - 5_000)));
      }
      for (const mode of ['off', 'on'] as const) {
        const m = merged[mode];
        if (!m.seconds) continue;
        const h = LatencyHistogram.from(m.latency);
        const sh = LatencyHistogram.from(m.send);
        result[mode].e2e = {
          seconds: round3(m.seconds),
          ok: m.ok,
          deliveredPerSec: round3(m.frames / E2E_FRAMES_PER_MESSAGE / m.seconds),
          frames: m.frames,
          expectedFrames: m.expected,
          p50Ms: round3(h.percentile(50)),
          p99Ms: round3(h.percentile(99)),
          sendP99Ms: round3(sh.percentile(99)),
          errors: m.errors,
          skipped: m.skipped,
        };
      }
      result.e2eRatio = layerRatio(result.on.e2e?.deliveredPerSec, result.off.e2e?.deliveredPerSec);
      log(`  end to end: off ${result.off.e2e?.deliveredPerSec ?? '—'} msg/s (p99 ${result.off.e2e?.p99Ms ?? '—'} ms), on ${result.on.e2e?.deliveredPerSec ?? '—'} msg/s (p99 ${result.on.e2e?.p99Ms ?? '—'} ms) → ${result.e2eRatio?.toFixed(2) ?? '—'}×`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`  scenario 10 stopped on an error: ${message}`);
    result.notes.push(`stopped on an error: ${message.split('\n')[0]}`);
    await lg.layerOff().catch(() => undefined);
  } finally {
    result.elapsedSeconds = round3((performance.now() - t0) / 1000);
  }

  return {
    result,
    profile: (gateway, chat, gatewayCategories, chatCategories) => profileModes(result, gateway, chat, gatewayCategories, chatCategories),
  };
}

/** Why a ramp passed no step: its lowest step's latency and who used the machine's CPU meanwhile. */
function noPassCause(r: SignalsResult): string {
  const parts = (['off', 'on'] as const)
    .filter((m) => r[m].bestRate === undefined)
    .map((m) => {
      const st = r.steps.find((s) => s.mode === m);
      if (!st) return `the layer-${m} ramp ran no step`;
      const ours = st.cpu.gateway + st.cpu.broker + st.cpu.loadgenReceivers + st.cpu.loadgenSource;
      return `the layer-${m} ramp passed no step: at ${st.targetRate}/s p99 ${st.p99Ms} ms, ${Math.max(0, st.expectedFrames - st.frames)} frames late or lost, with the whole machine ${st.cpu.machine.toFixed(2)} of 2 cores busy, ${Math.max(0, st.cpu.machine - ours).toFixed(2)} of them outside the gateway (${st.cpu.gateway.toFixed(2)}), broker and load generator`;
    });
  return `${parts.join('; ')}${parts.some((p) => p.includes('outside')) ? ' (other work on the machine: rerun when it is idle)' : ''}`;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** One window of a profile: top self time, stages, and the layer's share (its code and all it called). */
function windowSummary(file: string, w: TimeWindow, categories: Category[], layer: RegExp): { top: string; idle: number; layerShare: number; categories: Record<string, number> } {
  const prof = readProfile(file);
  const top = topSelfTime(prof, w, 6);
  const cats = categoryShares(prof, categories, w);
  return {
    top: describeTop(top.entries, 6),
    idle: top.idleShare,
    layerShare: stackShare(prof, w, inLayer(layer)).share,
    categories: Object.fromEntries(Object.entries(cats.shares).map(([k, v]) => [k, round3(v)])),
  };
}

/**
 * Profiles of the windows that tell the modes apart: the gateway at the like-for-like rate and at
 * the first rate only "off" passed, both modes; chat over its first end-to-end window of each mode.
 * Sets the causes of a missed ratio from them and from the CPU of those windows.
 */
function profileModes(r: SignalsResult, gateway: Proc, chat: Proc | undefined, gatewayCategories: Category[], chatCategories: Category[]): ProfileSummary[] {
  const out: ProfileSummary[] = [];
  const gwFile = gateway.profileDir ? profilesIn(gateway.profileDir).pop() : undefined;
  // The like-for-like rate (the highest both modes passed), and the first rate only "off" passed.
  const common = r.on.atCommon?.rate;
  const div = firstDivergence(r.steps);
  const picks = [...new Set([common, div?.rate].filter((x): x is number => x !== undefined))];
  const layerShares: Record<string, number> = {};
  if (gwFile)
    for (const rate of picks)
      for (const mode of ['off', 'on'] as const) {
        const st = r.steps.find((s) => s.mode === mode && s.targetRate === rate);
        if (!st) continue;
        const s = windowSummary(gwFile, st.window, gatewayCategories, GATEWAY_LAYER);
        layerShares[`${mode}@${rate}`] = s.layerShare;
        out.push({
          process: 'gateway (ours)',
          window: `scenario 10, delivery at ${rate}/s, layer ${mode} (${st.pass ? 'passed' : 'failed'}; idle ${(s.idle * 100).toFixed(0)}%; the layer's code and what it called: ${pct(s.layerShare)} of busy samples)`,
          cpuProfile: gwFile,
          top: s.top,
          categories: s.categories,
        });
      }
  const chatFile = chat?.profileDir ? profilesIn(chat.profileDir).pop() : undefined;
  const chatLayer: Record<LayerMode, number[]> = { off: [], on: [] };
  if (chatFile)
    for (const mode of ['off', 'on'] as const) {
      const w = r.e2e.find((x) => x.mode === mode);
      if (!w) continue;
      const s = windowSummary(chatFile, w.window, chatCategories, CHAT_LAYER);
      for (const x of r.e2e.filter((y) => y.mode === mode)) chatLayer[mode].push(stackShare(readProfile(chatFile), x.window, inLayer(CHAT_LAYER)).share);
      out.push({ process: 'chat', window: `scenario 10, end to end at ${r.e2eRate}/s, first layer-${mode} window (idle ${(s.idle * 100).toFixed(0)}%; presence/contacts code and what it called: ${pct(s.layerShare)} of busy samples)`, cpuProfile: chatFile, top: s.top, categories: s.categories });
    }

  // ---- Causes of a miss ----------------------------------------------------------------------
  if (r.deliveryRatio !== undefined && r.deliveryRatio < 0.9) {
    const on = div?.on;
    const off = div?.off;
    const lg = (c: { loadgenReceivers: number; loadgenSource: number }) => (c.loadgenReceivers + c.loadgenSource).toFixed(2);
    r.deliveryCause = on
      ? `at ${div.rate}/s the layer-on half failed (p99 ${on.p99Ms} ms, ${Math.max(0, on.expectedFrames - on.frames)} frames late or lost${on.loadgenLimited ? ', **loadgen-limited**' : ''}) ` +
        (off ? `where the off half ${off.pass ? 'passed' : 'failed too'} (p99 ${off.p99Ms} ms). ` : '. ') +
        `CPU on vs off: gateway ${on.cpu.gateway.toFixed(2)} vs ${off?.cpu.gateway.toFixed(2) ?? '—'} cores, broker ${on.cpu.broker.toFixed(2)} vs ${off?.cpu.broker.toFixed(2) ?? '—'}, loadgen (the typing/reconnect generator included) ${lg(on.cpu)} vs ${off ? lg(off.cpu) : '—'}, whole machine ${on.cpu.machine.toFixed(2)} vs ${off?.cpu.machine.toFixed(2) ?? '—'} of 2. ` +
        `In the gateway's profile the layer's code (typing.ts, live-signals.ts, presence-reporter.ts, signal-bus.ts, presence-table.ts and what they called) took ${layerShares[`on@${div.rate}`] !== undefined ? pct(layerShares[`on@${div.rate}`]!) : 'n/a'} of busy samples with the layer on (${layerShares[`off@${div.rate}`] !== undefined ? pct(layerShares[`off@${div.rate}`]!) : 'n/a'} off: presence beats only); the stages of both windows are under Profiles`
      : `the layer-on ramp passed no step at all while the off ramp reached ${r.off.bestRate}/s`;
  }
  if (r.e2eRatio !== undefined && r.e2eRatio < 0.9) {
    const win = (m: LayerMode) => r.e2e.filter((w) => w.mode === m);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const cpu = (m: LayerMode, k: 'chat' | 'database') => avg(win(m).map((w) => w.cpu.others[k] ?? NaN)).toFixed(2);
    r.e2eCause =
      `delivered ${r.on.e2e?.deliveredPerSec}/s with the layer vs ${r.off.e2e?.deliveredPerSec}/s without (201s ${r.on.e2e?.ok} vs ${r.off.e2e?.ok}, shed ${r.on.e2e?.skipped} vs ${r.off.e2e?.skipped}); ` +
      `CPU on vs off: chat ${cpu('on', 'chat')} vs ${cpu('off', 'chat')} cores, database server ${cpu('on', 'database')} vs ${cpu('off', 'database')}, gateway ${avg(win('on').map((w) => w.cpu.gateway)).toFixed(2)} vs ${avg(win('off').map((w) => w.cpu.gateway)).toFixed(2)}, whole machine ${avg(win('on').map((w) => w.cpu.machine)).toFixed(2)} vs ${avg(win('off').map((w) => w.cpu.machine)).toFixed(2)}; ` +
      `chat's presence/contacts code took ${chatLayer.on.length ? pct(avg(chatLayer.on)) : 'n/a'} of its busy samples with the layer on (${chatLayer.off.length ? pct(avg(chatLayer.off)) : 'n/a'} off)`;
  }
  return out;
}
