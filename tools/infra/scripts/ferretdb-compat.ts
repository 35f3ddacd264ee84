// Checks the MongoDB features the services rely on, plus insert latency/throughput.
//   node --import tsx tools/infra/scripts/ferretdb-compat.ts      (uses ensureInfra(), or MONGO_URL)
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { ensureInfra } from '../src/index.js';

type Result = { name: string; ok: boolean; note: string };
const results: Result[] = [];

async function check(name: string, fn: () => Promise<string>): Promise<void> {
  try {
    results.push({ name, ok: true, note: await fn() });
  } catch (e) {
    const err = e as MongoServerError;
    results.push({ name, ok: false, note: `${err.codeName ?? err.name} (code ${err.code ?? '-'}): ${err.message.split('\n')[0]}` });
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const infra = await ensureInfra();
  const client = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db: Db = client.db('ferretdb_compat');
  await db.dropDatabase();

  await check('unique index: duplicate insert -> 11000', async () => {
    const c = db.collection('users');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a@x' });
    try {
      await c.insertOne({ email: 'a@x' });
    } catch (e) {
      const err = e as MongoServerError;
      if (err.code !== 11000) throw e;
      return `code ${err.code} ${err.codeName ?? ''}; keyPattern=${JSON.stringify(err.keyPattern)} keyValue=${JSON.stringify(err.keyValue)}; message: ${err.message}`;
    }
    throw new Error('duplicate accepted');
  });

  await check('compound unique index', async () => {
    const c = db.collection('members');
    await c.createIndex({ roomId: 1, userId: 1 }, { unique: true });
    await c.insertOne({ roomId: 'r1', userId: 'u1' });
    await c.insertOne({ roomId: 'r1', userId: 'u2' });
    await c.insertOne({ roomId: 'r2', userId: 'u1' });
    try {
      await c.insertOne({ roomId: 'r1', userId: 'u1' });
    } catch (e) {
      if ((e as MongoServerError).code === 11000) return 'distinct pairs accepted, duplicate pair -> 11000';
      throw e;
    }
    throw new Error('duplicate pair accepted');
  });

  await check('find().sort().limit() on an index (+ range, desc)', async () => {
    const c = db.collection<{ roomId: string; seq: number; ts: Date }>('messages');
    await c.createIndex({ roomId: 1, seq: -1 });
    await c.insertMany(Array.from({ length: 200 }, (_, i) => ({ roomId: i % 2 ? 'a' : 'b', seq: i, ts: new Date(1e12 + i) })));
    const page = await c.find({ roomId: 'a', seq: { $lt: 150 } }).sort({ seq: -1 }).limit(5).toArray();
    const seqs = page.map((d) => d.seq).join(',');
    if (seqs !== '149,147,145,143,141') throw new Error(`got ${seqs}`);
    const explain = await c.find({ roomId: 'a' }).sort({ seq: -1 }).limit(5).explain();
    const pushdown = JSON.stringify(explain).match(/"(sortPushdown|limitPushdown|filterPushdown)":(true|false)/g)?.join(' ') ?? '';
    return `order correct; explain: ${pushdown}`;
  });

  await check('insertMany ordered:false with a duplicate in the middle', async () => {
    const c = db.collection('users');
    try {
      await c.insertMany([{ email: 'b@x' }, { email: 'a@x' }, { email: 'c@x' }], { ordered: false });
    } catch (e) {
      const err = e as MongoServerError & { result?: { insertedCount?: number }; insertedCount?: number; writeErrors?: unknown };
      const n = await c.countDocuments({ email: { $in: ['b@x', 'c@x'] } });
      return `throws ${err.name} code ${err.code}; insertedCount=${err.result?.insertedCount ?? err.insertedCount}; others inserted: ${n}/2`;
    }
    throw new Error('no error for duplicate');
  });

  await check('updateMany $set', async () => {
    const r = await db.collection('messages').updateMany({ roomId: 'a' }, { $set: { edited: true } });
    return `matched ${r.matchedCount} modified ${r.modifiedCount}`;
  });

  await check('findOneAndUpdate upsert + $inc (+ $setOnInsert)', async () => {
    const c = db.collection<{ _id: string; n: number; createdAt?: Date }>('counters');
    const a = await c.findOneAndUpdate({ _id: 'room:1' }, { $inc: { n: 1 }, $setOnInsert: { createdAt: new Date() } }, { upsert: true, returnDocument: 'after' });
    const b = await c.findOneAndUpdate({ _id: 'room:1' }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
    if (a?.n !== 1 || b?.n !== 2) throw new Error(`got ${a?.n}, ${b?.n}`);
    return 'returns 1 then 2 (not atomic under concurrency, see TOOLCHAIN.md)';
  });

  await check('countDocuments / estimatedDocumentCount', async () => {
    const c = db.collection('messages');
    return `countDocuments({roomId:'a'})=${await c.countDocuments({ roomId: 'a' })}, estimated=${await c.estimatedDocumentCount()}`;
  });

  await check('$addToSet / $pull / $push on arrays', async () => {
    const c = db.collection<{ _id: string; members: string[] }>('rooms');
    await c.insertOne({ _id: 'r', members: ['u1'] });
    await c.updateOne({ _id: 'r' }, { $addToSet: { members: 'u2' } });
    await c.updateOne({ _id: 'r' }, { $addToSet: { members: 'u2' } });
    await c.updateOne({ _id: 'r' }, { $pull: { members: 'u1' } });
    await c.updateOne({ _id: 'r' }, { $push: { members: 'u3' } });
    const d = await c.findOne({ _id: 'r' });
    const found = await c.countDocuments({ members: 'u3' });
    return `members=${JSON.stringify(d?.members)}; query by array element matches ${found}`;
  });

  await check('bulkWrite (mixed, ordered:false)', async () => {
    const r = await db.collection('bulk').bulkWrite(
      [
        { insertOne: { document: { _id: 1 as never, v: 1 } } },
        { updateOne: { filter: { _id: 2 as never }, update: { $set: { v: 2 } }, upsert: true } },
        { deleteOne: { filter: { _id: 1 as never } } },
      ],
      { ordered: false },
    );
    return `inserted ${r.insertedCount} upserted ${r.upsertedCount} deleted ${r.deletedCount}`;
  });

  await check('aggregate $match/$group($sum)/$sort', async () => {
    const r = await db.collection('messages').aggregate([{ $match: { seq: { $gte: 0 } } }, { $group: { _id: '$roomId', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
    return JSON.stringify(r);
  });

  await check('collation index (case-insensitive, strength 2)', async () => {
    const c = db.collection('ci');
    await c.createIndex({ name: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await c.insertOne({ name: 'Alice' });
    try {
      await c.insertOne({ name: 'alice' });
      return 'index created but NOT case-insensitive (alice accepted)';
    } catch (e) {
      if ((e as MongoServerError).code === 11000) return 'case-insensitive unique works';
      throw e;
    }
  });

  await check('find with collation option', async () => {
    const n = await db.collection('ci2').find({ name: 'alice' }, { collation: { locale: 'en', strength: 2 } }).toArray();
    return `accepted (${n.length} results)`;
  });

  await check('case-insensitive $regex (workaround)', async () => {
    const c = db.collection('ci3');
    await c.insertOne({ name: 'Alice' });
    const n = await c.countDocuments({ name: { $regex: '^alice$', $options: 'i' } });
    return `matches ${n}`;
  });

  await check('TTL index (expireAfterSeconds)', async () => {
    await db.collection('ttl').createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    return 'accepted';
  });

  await check('partial unique index', async () => {
    await db.collection('partial').createIndex({ k: 1 }, { unique: true, partialFilterExpression: { k: { $exists: true } } });
    return 'accepted';
  });

  await check('sparse unique index', async () => {
    const c = db.collection('sparse');
    await c.createIndex({ k: 1 }, { unique: true, sparse: true });
    await c.insertOne({ a: 1 });
    await c.insertOne({ a: 2 });
    return 'two docs without k accepted';
  });

  await check('unique index: two docs missing the field', async () => {
    const c = db.collection('uniqmissing');
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ a: 1 });
    try {
      await c.insertOne({ a: 2 });
      return 'both accepted (differs from MongoDB, which treats missing as null -> 11000)';
    } catch (e) {
      if ((e as MongoServerError).code === 11000) return '11000 like MongoDB (missing = null)';
      throw e;
    }
  });

  // ---------------------------------------------------------------- performance
  const perf: string[] = [];
  {
    const c = db.collection('perf_one');
    await c.createIndex({ roomId: 1, seq: 1 }, { unique: true });
    const n = 2000;
    const lat: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await c.insertOne({ roomId: `r${i % 10}`, seq: i, body: 'x'.repeat(100), ts: new Date() });
      lat.push(performance.now() - s);
    }
    const total = performance.now() - t0;
    lat.sort((a, b) => a - b);
    perf.push(
      `insertOne x${n} sequential (1 unique compound index): ${(n / (total / 1000)).toFixed(0)}/s; latency p50 ${pct(lat, 50).toFixed(2)} ms, p95 ${pct(lat, 95).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${lat[lat.length - 1]!.toFixed(1)} ms`,
    );
  }
  {
    const c = db.collection('perf_conc');
    await c.createIndex({ roomId: 1, seq: 1 }, { unique: true });
    const n = 4000;
    const conc = 16;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < n) {
          const i = next++;
          await c.insertOne({ roomId: `r${i % 10}`, seq: i, body: 'x'.repeat(100), ts: new Date() });
        }
      }),
    );
    perf.push(`insertOne x${n}, ${conc} in flight: ${(n / ((performance.now() - t0) / 1000)).toFixed(0)}/s`);
  }
  {
    const c = db.collection('perf_many');
    const n = 20000;
    const t0 = performance.now();
    for (let b = 0; b < n; b += 1000)
      await c.insertMany(Array.from({ length: 1000 }, (_, i) => ({ roomId: `r${(b + i) % 10}`, seq: b + i, body: 'x'.repeat(100) })), { ordered: false });
    perf.push(`insertMany ${n} docs in batches of 1000: ${(n / ((performance.now() - t0) / 1000)).toFixed(0)} docs/s`);
  }
  {
    const c = db.collection('perf_one');
    const lat: number[] = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      await c.find({ roomId: `r${i % 10}`, seq: { $lt: 1500 } }).sort({ seq: -1 }).limit(50).toArray();
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    perf.push(`find({roomId, seq<x}).sort({seq:-1}).limit(50) on 2000 docs: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`);
  }
  {
    const c = db.collection('perf_one');
    const lat: number[] = [];
    for (let i = 0; i < 500; i++) {
      const s = performance.now();
      await c.findOne({ roomId: `r${i % 10}`, seq: i });
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    perf.push(`findOne by unique compound key: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`);
  }

  {
    // Only a filter that is exactly { _id: value } is pushed down to SQLite; everything else scans.
    const c = db.collection<{ _id?: unknown; roomId: string; seq: number }>('perf_many');
    await c.createIndex({ roomId: 1, seq: 1 });
    const n = await c.countDocuments();
    const ids = (await c.find({}, { projection: { _id: 1 } }).limit(50).toArray()).map((d) => d._id);
    const time = async (label: string, fn: (i: number) => Promise<unknown>, reps = 30) => {
      const lat: number[] = [];
      for (let i = 0; i < reps; i++) {
        const s = performance.now();
        await fn(i);
        lat.push(performance.now() - s);
      }
      lat.sort((a, b) => a - b);
      perf.push(`${label} on ${n} docs: p50 ${pct(lat, 50).toFixed(2)} ms, p95 ${pct(lat, 95).toFixed(2)} ms`);
    };
    await time('findOne({_id})', (i) => c.findOne({ _id: ids[i % ids.length] }));
    await time('findOne({roomId, seq}) (indexed, not pushed down)', (i) => c.findOne({ roomId: `r${i % 10}`, seq: 19000 + i }));
    await time('find({roomId}).sort({seq:-1}).limit(50)', (i) => c.find({ roomId: `r${i % 10}` }).sort({ seq: -1 }).limit(50).toArray());
    await time('countDocuments({roomId})', (i) => c.countDocuments({ roomId: `r${i % 10}` }));
    await time('updateOne({_id}, $set)', (i) => c.updateOne({ _id: ids[i % ids.length] }, { $set: { x: i } }));
    await time('updateOne({roomId, seq}, $set)', (i) => c.updateOne({ roomId: `r${i % 10}`, seq: 19000 + i }, { $set: { x: i } }));
  }

  await db.dropDatabase();
  await client.close();
  console.log(`server: ${infra.mongoUrl} (${infra.mongoSource})\n`);
  for (const r of results) console.log(`${r.ok ? 'OK  ' : 'FAIL'} ${r.name}: ${r.note}`);
  console.log('');
  for (const p of perf) console.log(p);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
