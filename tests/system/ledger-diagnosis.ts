/**
 * When the ledger does not balance, says why from what Chat stored, so a failed run names its
 * cause instead of only its count: holes in a receiver's timeline (sync stops at a hole, by
 * design, so everything after one is missing from sync), and messages a receiver saw that no
 * sender was told about (a retry stored twice, or a send whose every answer was lost).
 * Read-only: it reads Chat's database directly, as nothing in the API lists holes.
 */
import { ObjectId, type Db } from 'mongodb';
import type { DeliveryLedger } from './delivery-ledger.ts';

/** The missing positions of one user's timeline, as ranges ("41–43"), with what lies either side. */
export async function timelineHoles(db: Db, userId: string): Promise<{ last: number; entries: number; holes: string[] }> {
  const entries = await db
    .collection<{ _id: string; userId: string; seq: number; messageJson: string }>('timeline')
    .find({ userId }, { projection: { seq: 1, messageJson: 1 } })
    .toArray();
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  const last = Math.max(0, ...entries.map((e) => e.seq));
  const holes: string[] = [];
  for (let seq = 1; seq <= last; seq++) {
    if (bySeq.has(seq)) continue;
    let end = seq;
    while (end + 1 <= last && !bySeq.has(end + 1)) end++;
    const after = bySeq.get(end + 1);
    const at = after ? (JSON.parse(after.messageJson) as { createdAt?: string }).createdAt : undefined;
    holes.push(`${seq === end ? seq : `${seq}–${end}`} (the next entry's message was created at ${at ?? '?'})`);
    seq = end;
  }
  return { last, entries: entries.length, holes };
}

/** For ids a receiver saw but no sender was acknowledged: what was stored, and whether its clientMsgId was acknowledged under another id. */
export async function unacknowledgedSeen(db: Db, ledger: DeliveryLedger, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids.slice(0, 10)) {
    const doc = await db
      .collection<{ _id: ObjectId; from: string; clientMsgId?: string; position: number; createdAt: Date }>('messages')
      .findOne({ _id: new ObjectId(id) });
    if (!doc) {
      out.push(`${id}: not stored`);
      continue;
    }
    const other = doc.clientMsgId === undefined ? undefined : ledger.idFor(doc.from, doc.clientMsgId);
    out.push(
      `${id} (from ${doc.from}, position ${doc.position}, created ${doc.createdAt.toISOString()}): ` +
        (other === undefined ? 'its clientMsgId was never acknowledged' : `its clientMsgId was acknowledged as ${other}: STORED TWICE`),
    );
  }
  return out;
}
