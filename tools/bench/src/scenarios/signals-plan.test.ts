import assert from 'node:assert/strict';
import { test } from 'node:test';
import { directConversationId } from '@chat/common/contracts';
import type { DeliveryStep } from './delivery-result.js';
import {
  abbaOrder,
  dueSlots,
  firstDivergence,
  layerRatio,
  modeDone,
  ratesAround,
  receiverUserIndices,
  reconnectIntervalMs,
  signalsGoals,
  stepOrder,
  summarizeSteps,
  typingAssignments,
  typingPartner,
  type LayerDeliveryStep,
  type SignalsResult,
} from './signals-plan.js';

test('the modes alternate per step and run ABBA end to end', () => {
  assert.deepEqual([0, 1, 2].map(stepOrder), [
    ['off', 'on'],
    ['on', 'off'],
    ['off', 'on'],
  ]);
  assert.deepEqual(abbaOrder(8), ['off', 'on', 'on', 'off', 'off', 'on', 'on', 'off']);
  const four = abbaOrder(4);
  assert.equal(four.filter((m) => m === 'on').length, 2);
});

test('every user types to a partner who is another user, in a 1:1 conversation named as chat names it', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => typingPartner(i, 5)), [1, 0, 3, 2, 3]);
  assert.equal(typingPartner(0, 1), 0);
  const ids = ['b'.repeat(24), 'a'.repeat(24), 'c'.repeat(24)];
  const plan = typingAssignments(ids.map((id) => ({ id })), 2);
  assert.equal(plan.length, 2);
  assert.deepEqual(plan[0], [
    [ids[0], directConversationId(ids[0]!, ids[1]!)],
    [ids[2], directConversationId(ids[2]!, ids[1]!)],
  ]);
  assert.deepEqual(plan[1], [[ids[1], `dm:${ids[1]}:${ids[0]}`]]);
  // A lone user has nobody to type to.
  assert.deepEqual(typingAssignments([{ id: ids[0]! }], 2), [[], []]);
});

test('due slots: each slot once per period, spread evenly, never a burst after a stall', () => {
  // 5 typers every 5 s: one every second.
  assert.deepEqual(dueSlots(0, 999, 5, 5_000), []);
  assert.deepEqual(dueSlots(0, 1_000, 5, 5_000), [1]);
  assert.deepEqual(dueSlots(1_000, 4_000, 5, 5_000), [2, 3, 4]);
  assert.deepEqual(dueSlots(4_000, 6_000, 5, 5_000), [0, 1]);
  // Over a whole minute of 50 ms ticks every slot fires 12 times.
  const fired = new Array<number>(5).fill(0);
  for (let t = 0; t < 60_000; t += 50) for (const k of dueSlots(t, t + 50, 5, 5_000)) fired[k]!++;
  assert.deepEqual(fired, [12, 12, 12, 12, 12]);
  // A 20 s stall fires each slot once, not four times.
  assert.deepEqual(dueSlots(0, 20_000, 5, 5_000).sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(dueSlots(10, 10, 5, 5_000), []);
  assert.deepEqual(dueSlots(0, 10, 0, 5_000), []);
});

test('10 % of 10,000 sockets per minute, users of 2 sockets: a user every 120 ms', () => {
  assert.equal(reconnectIntervalMs(10_000, 2, 0.1), 120);
  assert.equal(reconnectIntervalMs(500, 2, 0.1), 2_400);
  assert.equal(reconnectIntervalMs(0, 2, 0.1), Number.POSITIVE_INFINITY);
});

test('scenario 3 layout: targets once per child, the rest round-robin over the other users', () => {
  assert.deepEqual(receiverUserIndices(5, 2, 7), [0, 1, 2, 3, 4, 2, 3]);
  assert.deepEqual(receiverUserIndices(2, 2, 4), [0, 1, 0, 1]);
});

test('ratio and rates around a known best', () => {
  assert.equal(layerRatio(9, 10), 0.9);
  assert.equal(layerRatio(9, 0), undefined);
  assert.equal(layerRatio(undefined, 10), undefined);
  const r = ratesAround(15_000, [1]);
  assert.equal(r[0], 11_300);
  assert.ok(r[r.length - 1]! <= 30_000 && r[r.length - 1]! > 27_000);
  for (let i = 1; i < r.length; i++) assert.ok(r[i]! / r[i - 1]! < 1.1, `step ${r[i - 1]} → ${r[i]} is finer than the goal's 10 %`);
  assert.deepEqual(ratesAround(undefined, [1, 2]), [1, 2]);
});

const step = (mode: 'on' | 'off', rate: number, pass: boolean, p99 = 10): LayerDeliveryStep =>
  ({
    mode,
    targetRate: rate,
    deliveredPerSec: rate,
    pass,
    p99Ms: p99,
    cpu: { gateway: rate / 30_000, loadgenReceivers: 0.1, loadgenReceiverMax: 0.05, loadgenSource: 0.05, broker: 0.2, others: {}, machine: 1 },
  }) as unknown as DeliveryStep & { mode: 'on' | 'off' };

test('each mode keeps its best passing rate; the like-for-like step is the highest both passed', () => {
  const steps = [step('off', 10_000, true), step('on', 10_000, true, 12), step('on', 11_000, true), step('off', 11_000, true), step('off', 12_000, true), step('on', 12_000, false), step('off', 13_000, false)];
  const s = summarizeSteps(steps);
  assert.equal(s.off.bestRate, 12_000);
  assert.equal(s.on.bestRate, 11_000);
  assert.equal(s.on.atCommon?.rate, 11_000);
  assert.equal(layerRatio(s.on.bestRate, s.off.bestRate), 0.917);
  const d = firstDivergence(steps);
  assert.equal(d?.rate, 12_000);
  assert.equal(d?.off?.pass, true);
  assert.equal(firstDivergence([step('on', 1, true)]), undefined);
});

test('goals: a verdict per ratio, the cause only for a miss, "not measured" without both modes', () => {
  const base = { notes: [], e2e: [{}], off: { bestRate: 10_000, e2e: { deliveredPerSec: 500 } }, on: { bestRate: 8_000, e2e: { deliveredPerSec: 480 } }, deliveryRatio: 0.8, e2eRatio: 0.96, deliveryCause: 'the gateway saturated' } as unknown as SignalsResult;
  const [d, e] = signalsGoals(base, undefined);
  assert.equal(d!.met, false);
  assert.equal(d!.cause, 'the gateway saturated');
  assert.match(d!.value, /^0\.80× \(8,000 vs 10,000 events\/s\)$/);
  assert.equal(e!.met, true);
  assert.equal(e!.cause, undefined);
  assert.equal(d!.scenario, 10);
  const unmeasured = signalsGoals({ ...base, deliveryRatio: undefined, deliveryCause: 'no step passed' }, undefined)[0]!;
  assert.deepEqual([unmeasured.met, unmeasured.cause], [null, 'no step passed']);
  const none = signalsGoals(undefined, 'budget spent');
  assert.deepEqual(none.map((g) => [g.met, g.cause]), [
    [null, 'budget spent'],
    [null, 'budget spent'],
  ]);
});

test('a mode ends after failing at two rates in a row, not at one', () => {
  assert.equal(modeDone([step('on', 1, false)], 'on'), false);
  assert.equal(modeDone([step('on', 1, false), step('off', 1, true), step('on', 2, true), step('on', 3, false)], 'on'), false);
  assert.equal(modeDone([step('on', 1, true), step('on', 2, false), step('off', 2, false), step('on', 3, false)], 'on'), true);
  assert.equal(modeDone([step('on', 2, false), step('on', 3, false)], 'off'), false);
  // Best is the highest pass, after a failure too.
  assert.equal(summarizeSteps([step('on', 1, false), step('on', 2, true), step('on', 3, false), step('on', 4, false)]).on.bestRate, 2);
});
