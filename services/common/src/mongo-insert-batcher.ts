/**
 * Group commit for inserts into one collection: inserts asked for while a write is under way
 * join the next one, written as a single unordered insertMany. Each caller still gets its own
 * outcome: done, or the error of its own document (E11000 when a unique index refused it).
 *
 * Why: a request's inserts are small and many run at once. One insertMany of n documents is
 * one round trip, one statement and one commit on the database, instead of n of each; under
 * load that is most of the database's work per message. With nothing else in flight an insert
 * is written at once, so an idle service pays no wait; under load a caller waits at most for
 * the write in flight plus its own.
 *
 * Cost: one array of pending documents and their callbacks. At most {@link MAX_STATEMENTS_PER_WRITE}
 * documents per write (mongo-portability.ts, rule 4) and one write at a time: what arrives
 * meanwhile is the next batch (group commit).
 */
import { MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';
import { perDocumentWriteErrors } from './mongo-client.js';
import { MAX_STATEMENTS_PER_WRITE } from './mongo-portability.js';

interface Pending<T> {
  doc: OptionalUnlessRequiredId<T>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class InsertBatcher<T extends Document> {
  private pending: Array<Pending<T>> = [];
  private writing = false;

  constructor(private readonly collection: Collection<T>) {}

  /** Inserts `doc` with the next write; rejects with this document's own error. */
  insert(doc: OptionalUnlessRequiredId<T>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ doc, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_STATEMENTS_PER_WRITE);
    this.writing = true;
    void this.write(batch).finally(() => {
      this.writing = false;
      this.flush();
    });
  }

  private async write(batch: Array<Pending<T>>): Promise<void> {
    try {
      if (batch.length === 1) await this.collection.insertOne(batch[0]!.doc);
      else await this.collection.insertMany(batch.map((p) => p.doc), { ordered: false });
      for (const p of batch) p.resolve();
    } catch (err) {
      // Only an answer that names each refused document says the others were stored. Anything
      // else (the connection lost mid-write, no server) leaves every document's fate unknown:
      // each caller gets the error, never a success for a document that may not exist. A
      // sequence that took a reported success as stored would skip the position for good.
      const refused = perDocumentWriteErrors(err, batch.length);
      if (!refused) {
        for (const p of batch) p.reject(err);
        return;
      }
      batch.forEach((p, i) => {
        const own = refused.get(i);
        if (own) p.reject(new MongoServerError({ message: own.errmsg ?? 'write error', errmsg: own.errmsg, code: own.code }));
        else p.resolve();
      });
    }
  }
}
