import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOutcomes, meetsGoal, quantile, recoveredAfter, summarize, type SendAnswer, type SendOutcome } from './send-answers.ts';

let n = 0;
const answer = (startedAt: number, ms: number, outcome: SendOutcome = 'created'): SendAnswer => ({ startedAt, endedAt: startedAt + ms, outcome, clientMsgId: `c${n++}`, pair: 0 });

test('quantile: nearest rank, 0 for no values', () => {
  assert.equal(quantile([], 0.99), 0);
  assert.equal(quantile([5], 0.99), 5);
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  assert.equal(quantile(hundred, 0.5), 50);
  assert.equal(quantile(hundred, 0.99), 99);
  assert.equal(quantile(hundred, 1), 100);
});

test('summarize: a request belongs to the window it was started in, however late its answer', () => {
  const answers = [answer(0, 10), answer(500, 3_000, 'unavailable'), answer(999, 20, 'timeout'), answer(1_000, 5)];
  const s = summarize(answers, 0, 1_000);
  assert.equal(s.count, 3);
  assert.deepEqual(countOutcomes(answers.slice(0, 3)), s.outcomes);
  assert.equal(s.outcomes.created, 1);
  assert.equal(s.outcomes.unavailable, 1);
  assert.equal(s.outcomes.timeout, 1);
  assert.equal(s.max, 3_000);
  assert.equal(s.slower, 1);
  assert.equal(s.okP99, 10);
  assert.equal(s.okPerSecond, 1);
});

test('meetsGoal: nothing shed, nothing failed, and p99 within the goal', () => {
  assert.equal(meetsGoal(summarize([answer(0, 10), answer(1, 40)], 0, 10), 50), true);
  assert.equal(meetsGoal(summarize([answer(0, 10), answer(1, 60)], 0, 10), 50), false, 'p99 over the goal');
  assert.equal(meetsGoal(summarize([answer(0, 10), answer(1, 5, 'unavailable')], 0, 10), 50), false, 'a 503 is shedding');
  assert.equal(meetsGoal(summarize([], 0, 10), 50), false, 'no request is no evidence');
});

test('recoveredAfter: the first step from which every later request meets the goal', () => {
  const answers: SendAnswer[] = [];
  // 0–2 s after the drop: slow answers and 503s; from 2 s on: fast 201s.
  for (let t = 0; t < 2_000; t += 10) answers.push(answer(t, t % 20 === 0 ? 400 : 5, t % 30 === 0 ? 'unavailable' : 'created'));
  for (let t = 2_000; t < 6_000; t += 10) answers.push(answer(t, 8));
  assert.equal(recoveredAfter(answers, 0, 6_000, 50), 2_000);
  // slow answers at 5 s (more than 1 % of what follows) put the recovery after them
  const late = [...answers, ...Array.from({ length: 10 }, () => answer(5_000, 900))];
  assert.equal(recoveredAfter(late, 0, 6_000, 50, 250), 5_250);
  assert.equal(recoveredAfter([answer(0, 100), answer(100, 100)], 0, 250, 50, 250), undefined, 'never back');
});
