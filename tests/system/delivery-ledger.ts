/**
 * The zero-loss ledger of the fault-injection test: what senders were told was stored, and what
 * each receiver's device saw on the wire, by message id.
 *
 * The invariant it checks: every message acknowledged to its sender (201, or 200 for a repeat
 * of a clientMsgId whose first answer the client never got) reaches its receiver exactly once
 * after dedupe by id, and in order. "In order" is judged only where the sender fixed an order:
 * a message acknowledged before another was first sent must arrive before it. Messages sent
 * concurrently may be stored either way round; the server's own order for those is sync's,
 * checked separately by the test.
 *
 * Pure bookkeeping (no I/O), so that its arithmetic is unit tested on its own
 * (delivery-ledger.test.ts) and the chaos test's verdicts rest on it.
 */

export interface Acknowledged {
  /** The stored message's id, from the answer. */
  id: string;
  clientMsgId: string;
  sender: string;
  receiver: string;
  /** 201: stored by this request; 200: a repeat answered with the stored original. */
  status: 200 | 201;
  /** When the client first tried to send it, and when it got the answer (ms, any clock shared by the run). */
  firstTriedAt: number;
  ackedAt: number;
  attempts: number;
}

export interface LedgerReport {
  /** Messages acknowledged to their senders (201 or repeat 200). */
  acknowledged: number;
  /** Of those, stored by a request whose 201 the client saw. */
  created: number;
  /** Of those, acknowledged by a retry's 200 (the first answer was lost to a fault). */
  repeats: number;
  /** `new_message` frames the receivers saw, duplicates included. */
  frames: number;
  /** Acknowledged messages their receiver saw at least once. */
  delivered: number;
  /** Frames for an id the receiver had seen already (before the client's dedupe). */
  duplicates: number;
  /** Acknowledged messages their receiver never saw (must be 0). */
  lost: string[];
  /** Acknowledged messages that reached their receiver before one acknowledged before they were first sent. */
  outOfOrder: string[];
  /** Ids a receiver saw that no sender was told about (a send whose every answer was lost, or a retry stored twice). */
  unacknowledgedSeen: string[];
}

export class DeliveryLedger {
  private readonly acked = new Map<string, Acknowledged>();
  private readonly byClientMsgId = new Map<string, string>();
  /** Per receiver: first-sight order of ids, and how often each was seen. */
  private readonly seen = new Map<string, { order: string[]; count: Map<string, number> }>();
  private frameCount = 0;

  /** Records an answered send. Throws when one clientMsgId is acknowledged with two ids: dedupe failed. */
  acknowledge(entry: Acknowledged): void {
    const known = this.byClientMsgId.get(`${entry.sender}\u0000${entry.clientMsgId}`);
    if (known !== undefined && known !== entry.id) throw new Error(`clientMsgId ${entry.clientMsgId} of ${entry.sender} was acknowledged as ${known} and as ${entry.id}: stored twice`);
    this.byClientMsgId.set(`${entry.sender}\u0000${entry.clientMsgId}`, entry.id);
    if (!this.acked.has(entry.id)) this.acked.set(entry.id, entry);
  }

  /** Records one `new_message` frame as the receiver's device got it, before any dedupe. */
  frame(receiver: string, id: string): void {
    this.frameCount++;
    let r = this.seen.get(receiver);
    if (!r) this.seen.set(receiver, (r = { order: [], count: new Map() }));
    const n = r.count.get(id) ?? 0;
    r.count.set(id, n + 1);
    if (n === 0) r.order.push(id);
  }

  /** The id a sender's clientMsgId was acknowledged as. */
  idFor(sender: string, clientMsgId: string): string | undefined {
    return this.byClientMsgId.get(`${sender}\u0000${clientMsgId}`);
  }

  get acknowledgedCount(): number {
    return this.acked.size;
  }

  /** The ids this receiver saw, in first-sight order (what a client shows after dedupe). */
  deliveredTo(receiver: string): string[] {
    return [...(this.seen.get(receiver)?.order ?? [])];
  }

  /** Acknowledged messages for this receiver, in acknowledgement order. */
  acknowledgedFor(receiver: string): Acknowledged[] {
    return [...this.acked.values()].filter((a) => a.receiver === receiver).sort((a, b) => a.ackedAt - b.ackedAt);
  }

  /** Acknowledged at or before `at` and not yet seen by their receiver: what "caught up" waits for. */
  missingAckedBy(at: number): Acknowledged[] {
    const out: Acknowledged[] = [];
    for (const a of this.acked.values()) if (a.ackedAt <= at && !this.seen.get(a.receiver)?.count.has(a.id)) out.push(a);
    return out;
  }

  report(): LedgerReport {
    let delivered = 0;
    let created = 0;
    const lost: string[] = [];
    for (const a of this.acked.values()) {
      if (a.status === 201) created++;
      if (this.seen.get(a.receiver)?.count.has(a.id)) delivered++;
      else lost.push(a.id);
    }
    let duplicates = 0;
    const unacknowledgedSeen: string[] = [];
    const outOfOrder: string[] = [];
    for (const [receiver, r] of this.seen) {
      for (const [id, n] of r.count) {
        duplicates += n - 1;
        if (!this.acked.has(id)) unacknowledgedSeen.push(id);
      }
      // Walking the receiver's stream from its end, keep the earliest acknowledgement among the
      // messages that arrived later; one of those acknowledged before this one was first sent
      // means this one overtook a message its sender had already seen stored.
      let earliestAckLater = Infinity;
      for (let i = r.order.length - 1; i >= 0; i--) {
        const a = this.acked.get(r.order[i]!);
        if (!a || a.receiver !== receiver) continue;
        if (earliestAckLater < a.firstTriedAt) outOfOrder.push(a.id);
        earliestAckLater = Math.min(earliestAckLater, a.ackedAt);
      }
    }
    return {
      acknowledged: this.acked.size,
      created,
      repeats: this.acked.size - created,
      frames: this.frameCount,
      delivered,
      duplicates,
      lost,
      outOfOrder,
      unacknowledgedSeen,
    };
  }
}
