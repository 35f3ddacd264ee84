import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupGoals, joinGroupDelivery, type GroupResult } from './group-plan.js';

test('a loss on one socket and a duplicate on another do not cancel out', () => {
  // 3 members over two children; message a: child 0 got it twice on one socket (2 frames, 1
  // socket) and child 1 on both of its sockets; message b: every socket once.
  const d = joinGroupDelivery(
    [
      ['a', 1000],
      ['b', 2000],
    ],
    [
      [
        ['a', 2, 1, 1010, 1030],
        ['b', 1, 1, 2005, 2005],
      ],
      [
        ['a', 2, 2, 1020, 1040],
        ['b', 2, 2, 2002, 2050],
      ],
    ],
    4,
  );
  assert.equal(d.expectedFrames, 8);
  assert.equal(d.frames, 7);
  assert.equal(d.duplicates, 1);
  assert.equal(d.lost, 2); // a reached 3 of 4 sockets, b 3 of 4
  assert.equal(d.incompleteMessages, 2);
});

test('201 → last member is over the messages every member got, from the latest frame across children', () => {
  const d = joinGroupDelivery(
    [
      ['a', 1000],
      ['b', 2000],
      ['c', 3000],
    ],
    [
      [
        ['a', 1, 1, 1010, 1010],
        ['b', 1, 1, 1990, 1990],
        ['x', 2, 2, 5000, 5001],
      ],
      [
        ['a', 1, 1, 1005, 1040],
        ['b', 1, 1, 1995, 1995],
        ['c', 1, 1, 3001, 3001],
      ],
    ],
    2,
  );
  assert.equal(d.lost, 1); // c reached one socket of two
  assert.equal(d.incompleteMessages, 1);
  assert.equal(d.framesWithout201, 2); // x got no 201: owed to nobody, counted apart
  assert.equal(d.lastBefore201, 1); // b's last frame beat its 201
  assert.ok(Math.abs(d.lastMember.maxMs - 40) < 1, `max ${d.lastMember.maxMs}`);
  assert.ok(d.firstMember.p50Ms <= 5.2);
});

test('the exactly-once goal is met only with messages, no loss and no duplicate', () => {
  const base = { members: 200, notes: [] } as unknown as GroupResult;
  const delivery = joinGroupDelivery([['a', 1]], [[['a', 200, 200, 2, 3]]], 200);
  assert.equal(groupGoals({ ...base, delivery }, undefined)[0]!.met, true);
  const dup = joinGroupDelivery([['a', 1]], [[['a', 201, 200, 2, 3]]], 200);
  assert.equal(groupGoals({ ...base, delivery: dup }, undefined)[0]!.met, false);
  assert.equal(groupGoals(undefined, 'budget spent')[0]!.met, null);
  assert.equal(groupGoals(undefined, 'budget spent')[0]!.cause, 'budget spent');
});
