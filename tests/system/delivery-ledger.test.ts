/** The ledger's arithmetic, on hand-made histories: what counts as lost, duplicated and out of order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryLedger, type Acknowledged } from './delivery-ledger.ts';

const ack = (id: string, firstTriedAt: number, ackedAt: number, over: Partial<Acknowledged> = {}): Acknowledged => ({
  id,
  clientMsgId: `c-${id}`,
  sender: 'alice',
  receiver: 'bob',
  status: 201,
  firstTriedAt,
  ackedAt,
  attempts: 1,
  ...over,
});

describe('DeliveryLedger', () => {
  it('a clean history: everything delivered once, in order', () => {
    const l = new DeliveryLedger();
    l.acknowledge(ack('m1', 0, 10));
    l.acknowledge(ack('m2', 20, 30));
    l.frame('bob', 'm1');
    l.frame('bob', 'm2');
    const r = l.report();
    assert.deepEqual(r, { acknowledged: 2, created: 2, repeats: 0, frames: 2, delivered: 2, duplicates: 0, lost: [], outOfOrder: [], unacknowledgedSeen: [] });
  });

  it('counts duplicates before dedupe, and dedupes to first sight', () => {
    const l = new DeliveryLedger();
    l.acknowledge(ack('m1', 0, 10));
    l.acknowledge(ack('m2', 20, 30));
    for (const id of ['m1', 'm2', 'm1', 'm2', 'm2']) l.frame('bob', id);
    const r = l.report();
    assert.equal(r.duplicates, 3);
    assert.equal(r.frames, 5);
    assert.equal(r.delivered, 2);
    assert.deepEqual(l.deliveredTo('bob'), ['m1', 'm2']);
    assert.deepEqual(r.outOfOrder, []);
  });

  it('a message seen by the wrong receiver is still lost', () => {
    const l = new DeliveryLedger();
    l.acknowledge(ack('m1', 0, 10));
    l.frame('carol', 'm1');
    const r = l.report();
    assert.deepEqual(r.lost, ['m1']);
    assert.equal(r.delivered, 0);
    assert.equal(l.missingAckedBy(10).length, 1);
    assert.equal(l.missingAckedBy(9).length, 0, 'not yet acknowledged at 9');
  });

  it('order is judged only where the sender fixed it', () => {
    const l = new DeliveryLedger();
    l.acknowledge(ack('a', 0, 10)); // acknowledged before b and c were sent
    l.acknowledge(ack('b', 20, 50));
    l.acknowledge(ack('c', 25, 40)); // concurrent with b: either order is right
    for (const id of ['c', 'b', 'a']) l.frame('bob', id);
    assert.deepEqual(l.report().outOfOrder.sort(), ['b', 'c'], 'b and c overtook a');

    const ok = new DeliveryLedger();
    ok.acknowledge(ack('a', 0, 10));
    ok.acknowledge(ack('b', 20, 50));
    ok.acknowledge(ack('c', 25, 40));
    for (const id of ['a', 'c', 'b']) ok.frame('bob', id);
    assert.deepEqual(ok.report().outOfOrder, []);
  });

  it('a repeat is acknowledged once; one clientMsgId stored under two ids is refused', () => {
    const l = new DeliveryLedger();
    l.acknowledge(ack('m1', 0, 10, { status: 200, attempts: 2 }));
    l.acknowledge(ack('m1', 0, 12, { status: 200, attempts: 3 }));
    assert.deepEqual({ ...l.report(), lost: undefined }, { acknowledged: 1, created: 0, repeats: 1, frames: 0, delivered: 0, duplicates: 0, lost: undefined, outOfOrder: [], unacknowledgedSeen: [] });
    assert.throws(() => l.acknowledge(ack('m2', 0, 10, { clientMsgId: 'c-m1' })), /stored twice/);
    assert.equal(l.idFor('alice', 'c-m1'), 'm1');
  });

  it('ids nobody was told about are counted, not lost', () => {
    const l = new DeliveryLedger();
    l.frame('bob', 'x');
    const r = l.report();
    assert.deepEqual(r.unacknowledgedSeen, ['x']);
    assert.deepEqual(r.lost, []);
  });
});
