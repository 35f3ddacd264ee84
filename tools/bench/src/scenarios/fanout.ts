/**
 * Scenario 7, fanout scaling on one machine: the same injected rate with one gateway holding
 * every socket, then with two gateways holding half each (each user keeps one device on each).
 * Every gateway has its own queue on the fanout exchange, so each event is enqueued and
 * delivered once per gateway: the broker's work and each pod's consume rate are what the
 * README's fanout ceiling is about, and this measures both.
 */
import type { LoadGen } from '../loadgen/pool.js';
import { round3 } from '../stats.js';
import { metricValue, type Proc } from '../stack.js';
import { waitQuiet } from './common.js';
import { deliveryStep, warmUp, type DeliveryOptions, type DeliveryStep } from './delivery.js';

export interface FanoutPhase {
  gateways: number;
  step: Omit<DeliveryStep, 'window'>;
  /** Events each gateway consumed from its queue during the step (from its /metrics). */
  consumedPerGateway: number[];
  /** Broker deliveries per injected event (sum consumed / injected). */
  brokerDeliveriesPerEvent: number;
  /** Broker CPU seconds per 1,000 injected events. */
  brokerCpuMsPerEvent: number;
  /** Gateways' CPU seconds per 1,000 injected events, all pods together. */
  gatewayCpuMsPerEvent: number;
}

export interface FanoutResult {
  rate: number;
  phases: FanoutPhase[];
  /** Total frames/s with two gateways over one, at the same injected rate. */
  deliveredRatio: number;
  /** Broker CPU per event with two gateways over one. */
  brokerWorkRatio: number;
  conclusion: string;
}

async function consumed(gws: Proc[]): Promise<number[]> {
  return Promise.all(gws.map(async (g) => (await metricValue(g, 'gateway_events_consumed_total')) ?? NaN));
}

async function phase(o: DeliveryOptions, gws: Proc[], rate: number): Promise<FanoutPhase> {
  const before = await consumed(gws);
  const step = await deliveryStep({ ...o, gateway: gws[0]! }, rate, gws.map((g) => g.pid), `fanout ${gws.length} gw`);
  await waitQuiet(o.lg, 500, 10_000);
  const after = await consumed(gws);
  const perGw = after.map((a, i) => a - before[i]!);
  const seconds = (step.window.toUs - step.window.fromUs) / 1e6;
  const { window: _w, ...rest } = step;
  return {
    gateways: gws.length,
    step: rest,
    consumedPerGateway: perGw,
    brokerDeliveriesPerEvent: round3(perGw.reduce((a, b) => a + b, 0) / step.injected),
    brokerCpuMsPerEvent: round3(((step.cpu.broker * seconds) / step.injected) * 1000),
    gatewayCpuMsPerEvent: round3(((step.cpu.gateway * seconds) / step.injected) * 1000),
  };
}

/**
 * `one` holds every socket (receiver 0 and 1 each hold one socket per user). Starts `second`
 * through `startSecond`, moves receiver 1's sockets to it, and measures both phases.
 */
export async function fanoutScaling(o: DeliveryOptions & { lg: LoadGen; rate: number; startSecond: () => Promise<Proc>; tokensOfReceiver1: string[] }): Promise<{ result: FanoutResult; second: Proc }> {
  const one = o.gateway;
  const p1 = await phase(o, [one], o.rate);
  console.log(`  fanout 1 gateway: ${p1.step.framesPerSec} frames/s, broker ${p1.brokerCpuMsPerEvent} ms cpu/event, ${p1.brokerDeliveriesPerEvent} deliveries/event`);
  const second = await o.startSecond();
  await o.lg.closeWorker(1);
  const r = await o.lg.connect(second.url.replace(/^http/, 'ws') + '/', o.tokensOfReceiver1);
  if (r.failed) console.log(`  fanout: ${r.failed} sockets failed to move to the second gateway ${JSON.stringify(r.failures)}`);
  // The second gateway's user cache starts cold: warm it the same way (one event per user).
  await warmUp(o, 50, 'fanout warm-up');
  const p2 = await phase(o, [one, second], o.rate);
  console.log(`  fanout 2 gateways: ${p2.step.framesPerSec} frames/s, broker ${p2.brokerCpuMsPerEvent} ms cpu/event, ${p2.brokerDeliveriesPerEvent} deliveries/event`);
  const deliveredRatio = round3(p2.step.framesPerSec / p1.step.framesPerSec);
  const brokerWorkRatio = round3(p2.brokerCpuMsPerEvent / p1.brokerCpuMsPerEvent);
  const everyPodAll = p2.consumedPerGateway.every((c) => c >= 0.99 * p2.step.injected);
  const conclusion = everyPodAll
    ? `Confirmed: with 2 gateways each consumed every event (${p2.consumedPerGateway.join(' + ')} for ${p2.step.injected} injected, ${p2.brokerDeliveriesPerEvent} broker deliveries per event vs ${p1.brokerDeliveriesPerEvent} with one), ` +
      `broker CPU per event grew ×${brokerWorkRatio}, and total frames/s stayed ×${deliveredRatio} at the same injected rate: adding pods adds sockets, not event throughput; the cluster's event rate stays bounded by one pod's consume rate.`
    : `Not confirmed as stated: with 2 gateways the per-pod consumed counts were ${p2.consumedPerGateway.join(', ')} for ${p2.step.injected} injected.`;
  return {
    second,
    result: { rate: o.rate, phases: [p1, p2], deliveredRatio, brokerWorkRatio, conclusion },
  };
}
