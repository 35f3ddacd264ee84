// How fast FerretDB answers the equality queries the services make, per backend, and whether
// PostgreSQL serves them from the GIN indexes of src/ferretdb-gin.sql. The README's numbers.
//
//   CHAT_INFRA_DIR=/tmp/x node --import tsx tools/infra/scripts/ferretdb-index-bench.ts [--no-gin] [--docs N]
//   CHAT_INFRA_DIR=/tmp/y CHAT_INFRA_MONGO_BACKEND=sqlite node --import tsx tools/infra/scripts/ferretdb-index-bench.ts
//
// --no-gin removes the trigger and its GIN indexes first (the next start of the cluster puts them
// back). Uses the local server of @chat/infra: MONGO_URL must not be set.
import { MongoClient } from 'mongodb';
import { ensureInfra } from '../src/index.js';
import { installGinTrigger, psqlOk, removeGinTrigger } from '../src/pg-local.js';
import { readState } from '../src/state.js';

const args = process.argv.slice(2);
const noGin = args.includes('--no-gin');
const docsArg = args.indexOf('--docs');
const DOCS = docsArg >= 0 ? Number(args[docsArg + 1]) : 100_000;
const USERS = 1_000;

if (process.env.MONGO_URL) throw new Error('unset MONGO_URL: this measures the local server of @chat/infra');
const infra = await ensureInfra({ quiet: true });
const state = readState();
const pg = state.mongo?.source === 'local' && state.mongo.backend === 'postgresql' ? state.postgres : undefined;
const REPS = pg ? 20 : 5; // SQLite takes seconds per query
console.log(`backend: ${pg ? `PostgreSQL, GIN trigger ${noGin ? 'removed' : 'installed'}` : 'SQLite'}; ${DOCS} documents, ${USERS} users`);
if (pg) {
  if (noGin) await removeGinTrigger(pg);
  else await installGinTrigger(pg);
}

const client = new MongoClient(infra.mongoUrl);
const col = client.db('index_bench').collection<{ _id: string; userId: string; seq: number; published: boolean; createdAt: Date; text: string }>('entries');
await col.drop().catch(() => undefined);
// One index per createIndexes: FerretDB v1.24 panics on several at once.
await col.createIndex({ userId: 1, seq: 1 }, { name: 'timeline_seq', unique: true });
await col.createIndex({ published: 1, createdAt: 1 }, { name: 'outbox' });

let t0 = performance.now();
const text = 'x'.repeat(100);
for (let i = 0; i < DOCS; i += 1000) {
  const batch = [];
  for (let j = i; j < Math.min(DOCS, i + 1000); j++)
    // 1% unpublished, as an outbox mostly drained
    batch.push({ _id: `m${j}`, userId: `u${j % USERS}`, seq: Math.floor(j / USERS), published: j % 100 !== 0, createdAt: new Date(1_700_000_000_000 + j), text });
  await col.insertMany(batch, { ordered: false });
}
console.log(`inserted ${DOCS} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

t0 = performance.now();
for (let i = 0; i < 200; i++) await col.insertOne({ _id: `single${i}`, userId: `single${i}`, seq: 1_000_000 + i, published: false, createdAt: new Date(), text });
const insertMs = (performance.now() - t0) / 200;

async function scans(): Promise<Map<string, number>> {
  if (!pg) return new Map();
  const out = await psqlOk(pg, `SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE schemaname = 'index_bench'`, 'ferretdb', 'reading pg_stat_user_indexes');
  return new Map(out.split('\n').filter(Boolean).map((l) => [l.split('|')[0]!, Number(l.split('|')[1])] as [string, number]));
}

async function time(name: string, fn: () => Promise<unknown>): Promise<void> {
  await fn(); // warm: first execution, plans
  if (pg) await new Promise((r) => setTimeout(r, 11_000));
  const before = await scans();
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < REPS; i++) {
    const s = performance.now();
    result = await fn();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  // A PostgreSQL 15 backend that goes idle flushes its statistics within 10 s.
  if (pg) await new Promise((r) => setTimeout(r, 11_000));
  const after = await scans();
  const used = [...after].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k, v]) => `${k} +${v - (before.get(k) ?? 0)}`);
  const size = Array.isArray(result) ? `${result.length} docs` : typeof result === 'number' ? `= ${result}` : result ? '1 doc' : 'none';
  console.log(
    `${name.padEnd(48)} median ${ms[REPS >> 1]!.toFixed(2).padStart(8)} ms  p90 ${ms[Math.floor(REPS * 0.9)]!.toFixed(2).padStart(8)} ms  (${size})` +
      (pg ? `  index scans: ${used.join(', ') || 'none'}` : ''),
  );
}

await time(`find({userId:'u1'})`, () => col.find({ userId: 'u1' }).toArray());
await time(`find({_id:'m54321'})`, () => col.findOne({ _id: 'm54321' }));
await time(`countDocuments({published:false})`, () => col.countDocuments({ published: false }));
await time(`find({userId:'u1'}).sort({seq:-1}).limit(50)`, () => col.find({ userId: 'u1' }).sort({ seq: -1 }).limit(50).toArray());
console.log(`insertOne (serial, 200)                          mean ${insertMs.toFixed(2).padStart(8)} ms`);

if (pg) {
  // FerretDB's SQL for an equality is the same text for every field of a collection
  // (`_jsonb->$1 @> $2`), prepared once per connection. Under plan_cache_mode = auto a few
  // non-selective runs make PostgreSQL switch that statement to a generic plan, a sequential
  // scan, for every field: this checks that it does not happen (force_custom_plan).
  for (let i = 0; i < 7; i++) await col.countDocuments({ published: true });
  await time(`find({_id}) after 7 x countDocuments({published:true})`, () => col.findOne({ _id: 'm54321' }));
}
await client.close();
