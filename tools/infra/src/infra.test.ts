// Real-server tests for @chat/infra. They run against a PRIVATE instance
// (CHAT_INFRA_DIR=<repo>/.infra/test-instance, random free ports) so that
// stopping RabbitMQ/MongoDB here never disturbs the shared dev instance.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { MongoClient } from 'mongodb';
import { canControl, ensureInfra, infraStatus, killMongo, localDatabaseProcesses, pauseMongo, pauseRabbit, repoRoot, restartRabbit, resumeMongo, resumeRabbit, startMongo, startRabbit, stopInfra, stopMongo, stopRabbit, type Infra } from './index.js';
import { postgresBinDir, psqlOk } from './pg-local.js';
import { amqpProbe, mongoPing } from './probe.js';
import { readState } from './state.js';
import { pidAlive, randomFreePort, waitPidExit } from './util.js';

const dir = join(repoRoot(), '.infra', 'test-instance');
process.env.CHAT_INFRA_DIR = dir;
const here = fileURLToPath(new URL('.', import.meta.url));

function ensureInChild(): Promise<Infra> {
  return new Promise((resolve, reject) => {
    const code = `import { ensureInfra } from './index.js'; const i = await ensureInfra({ quiet: true }); process.stdout.write(JSON.stringify(i)); process.exit(0);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: here, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (c) => (c === 0 ? resolve(JSON.parse(out) as Infra) : reject(new Error(`child exited ${c}: ${err}`))));
  });
}

async function mongoOk(url: string): Promise<boolean> {
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500 });
  try {
    await c.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await c.close().catch(() => {});
  }
}

let infra: Infra;

/** Our PostgreSQL under FerretDB, or why a test about it cannot run here. */
function localPostgres(): { pg: NonNullable<ReturnType<typeof readState>['postgres']> } | { skip: string } {
  const s = readState();
  if (s.mongo?.source !== 'local') return { skip: `the MongoDB-wire server is ${s.mongo?.source ?? 'env'}, not local` };
  if (s.mongo.backend !== 'postgresql') return { skip: 'FerretDB runs on SQLite here (PostgreSQL could not be installed)' };
  return s.postgres ? { pg: s.postgres } : { skip: 'state.json records no PostgreSQL' };
}

/** Index name -> definition of the PostgreSQL indexes on the table behind a Mongo collection. */
async function pgIndexes(pg: { binDir: string; port: number }, db: string, collection: string): Promise<Map<string, string>> {
  // FerretDB keeps a Mongo database as a schema, and names a collection's table <name>_<hash>.
  const out = await psqlOk(
    pg as Parameters<typeof psqlOk>[0],
    `SELECT indexname || '|' || indexdef FROM pg_indexes WHERE schemaname = '${db}' AND tablename LIKE '${collection}\\_%'`,
    'ferretdb',
    'listing indexes',
  );
  return new Map(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('|')), l.slice(l.indexOf('|') + 1)] as [string, string]));
}

describe('@chat/infra', { timeout: 240_000 }, () => {
  before(async () => {
    await stopInfra().catch(() => {}); // leftovers of an interrupted run
    rmSync(dir, { recursive: true, force: true });
  });
  after(async () => {
    const pids = localDatabaseProcesses();
    await stopInfra();
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} (FerretDB or PostgreSQL) still runs after stopInfra`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('probes explain failures instead of ECONNREFUSED', async () => {
    const port = await randomFreePort();
    const a = await amqpProbe('127.0.0.1', port, 1000);
    assert.equal(a.ok, false);
    assert.match((a as { reason: string }).reason, /nothing accepts connections/);
    const m = await mongoPing('127.0.0.1', port, 1000);
    assert.equal(m.ok, false);
  });

  test('two processes calling ensureInfra at once get the same servers', async () => {
    const t0 = Date.now();
    const [a, b] = await Promise.all([ensureInChild(), ensureInChild()]);
    assert.deepEqual(a, b);
    infra = a;
    console.log(`cold ensureInfra (2 concurrent processes): ${Date.now() - t0} ms`, infra);
    const st = readState();
    if (infra.amqpSource !== 'env') assert.equal(st.rabbit?.url, infra.amqpUrl);
    if (infra.mongoSource !== 'env') assert.equal(st.mongo?.url, infra.mongoUrl);
  });

  test('ensureInfra is idempotent and fast when warm', async () => {
    const t0 = Date.now();
    const again = await ensureInfra({ quiet: true });
    const ms = Date.now() - t0;
    assert.deepEqual(again, infra);
    assert.ok(ms < 2000, `warm ensureInfra took ${ms} ms`);
  });

  test('the URLs work with real clients (mongodb driver, amqplib)', async () => {
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5000 });
    try {
      await mc.db('admin').command({ ping: 1 });
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.deleteMany({});
      await col.insertOne({ _id: 'a', n: 1 });
      assert.equal((await col.findOne({ _id: 'a' }))?.n, 1);
    } finally {
      await mc.close();
    }
    const conn = await amqp.connect(infra.amqpUrl);
    try {
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(q.queue, Buffer.from('hello'));
      let msg: amqp.GetMessage | false = false;
      for (let i = 0; i < 50 && !msg; i++) {
        msg = await ch.get(q.queue, { noAck: true });
        if (!msg) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(msg && msg.content.toString() === 'hello');
    } finally {
      await conn.close();
    }
  });

  test('stopRabbit drops connections and refuses new ones; startRabbit brings it back on the same URL', async (t) => {
    if (!(await canControl('rabbit'))) return t.skip('AMQP_URL is set');
    const conn = await amqp.connect(infra.amqpUrl);
    const closed = new Promise<unknown>((r) => conn.on('close', r));
    conn.on('error', () => {});
    let t0 = Date.now();
    await stopRabbit();
    const stopMs = Date.now() - t0;
    const reason = await Promise.race([closed, new Promise((_, rej) => setTimeout(() => rej(new Error('connection not closed')), 5000))]);
    console.log(`stopRabbit: ${stopMs} ms; client saw close:`, String(reason));
    await assert.rejects(amqp.connect(infra.amqpUrl), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED' || /ECONNREFUSED|closed|reset/i.test(String(e)));
    t0 = Date.now();
    await startRabbit();
    console.log(`startRabbit: ${Date.now() - t0} ms`);
    const again = await ensureInfra({ quiet: true });
    assert.equal(again.amqpUrl, infra.amqpUrl);
    const c2 = await amqp.connect(infra.amqpUrl);
    await c2.close();
  });

  test('restartRabbit leaves a working broker on the same URL', async (t) => {
    if (!(await canControl('rabbit'))) return t.skip('AMQP_URL is set');
    const t0 = Date.now();
    await restartRabbit();
    console.log(`restartRabbit: ${Date.now() - t0} ms`);
    const c = await amqp.connect(infra.amqpUrl);
    await c.close();
  });

  /** What became of `p` within `ms`: 'pending' while a paused server answers nothing. */
  const stateAfter = async (p: Promise<unknown>, ms: number): Promise<string> => {
    let state = 'pending';
    p.then(
      () => (state = 'answered'),
      (e: unknown) => (state = `failed: ${e instanceof Error ? e.message : String(e)}`),
    );
    await new Promise((r) => setTimeout(r, ms));
    return state;
  };

  test('pauseRabbit hangs the broker with its connections open; resumeRabbit lets them go on', async (t) => {
    if (!(await canControl('rabbit'))) return t.skip('AMQP_URL is set');
    const conn = await amqp.connect(infra.amqpUrl);
    let closed = false;
    conn.on('close', () => (closed = true));
    conn.on('error', () => {});
    try {
      const ch = await conn.createChannel();
      await pauseRabbit();
      let pending: Promise<unknown> | undefined;
      try {
        pending = ch.assertQueue('', { exclusive: true });
        assert.equal(await stateAfter(pending, 1_500), 'pending', 'a paused broker answers nothing');
        const { port } = new URL(infra.amqpUrl);
        const probe = await amqpProbe('127.0.0.1', Number(port), 1_000);
        assert.equal(probe.ok, false);
        assert.match((probe as { reason: string }).reason, /no RabbitMQ answer .* within/, 'the port still accepts connections: a hang, not a refusal');
        assert.match((await infraStatus()).find((e) => e.kind === 'rabbit')!.detail, /paused/);
        await assert.rejects(ensureInfra({ quiet: true }), /paused.*resume/, 'ensureInfra does not replace a paused server');
      } finally {
        await resumeRabbit();
      }
      assert.equal(await stateAfter(pending, 3_000), 'answered', 'the request waiting on the paused broker is answered after the resume');
      assert.equal(closed, false, 'the connection survived the pause');
      const again = await ensureInfra({ quiet: true });
      assert.equal(again.amqpUrl, infra.amqpUrl);
    } finally {
      await conn.close().catch(() => {});
    }
  });

  test('pauseMongo hangs the database with its connections open; resumeMongo lets them go on', async (t) => {
    if (!(await canControl('mongo'))) return t.skip('MONGO_URL is set');
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5000 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.updateOne({ _id: 'paused' }, { $set: { n: 1 } }, { upsert: true });
      await pauseMongo();
      let pending: Promise<unknown> | undefined;
      try {
        pending = col.findOne({ _id: 'paused' });
        assert.equal(await stateAfter(pending, 1_500), 'pending', 'a paused server answers nothing');
        await assert.rejects(ensureInfra({ quiet: true }), /paused.*resume/);
      } finally {
        await resumeMongo();
      }
      assert.deepEqual(await pending, { _id: 'paused', n: 1 }, 'the query waiting on the paused server is answered after the resume');
    } finally {
      await mc.close();
    }
  });

  test('stopMongo makes MongoDB unreachable; startMongo brings it back with its data', async (t) => {
    if (!(await canControl('mongo'))) return t.skip('MONGO_URL is set');
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 1500 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.updateOne({ _id: 'persist' }, { $set: { n: 42 } }, { upsert: true });
      const pgBefore = readState().postgres?.pid;
      let t0 = Date.now();
      await stopMongo();
      console.log(`stopMongo: ${Date.now() - t0} ms`);
      assert.equal(await mongoOk(infra.mongoUrl), false);
      // Only FerretDB stops (what the services see as the database); PostgreSQL keeps running under it.
      if (pgBefore) assert.ok(pidAlive(pgBefore) && readState().postgres?.pid === pgBefore, 'PostgreSQL kept running');
      if (pgBefore) assert.deepEqual(localDatabaseProcesses(), [pgBefore]);
      await assert.rejects(col.findOne({ _id: 'persist' }));
      t0 = Date.now();
      await startMongo();
      console.log(`startMongo: ${Date.now() - t0} ms`);
      assert.equal(await mongoOk(infra.mongoUrl), true);
      // the existing client recovers by itself
      assert.equal((await col.findOne({ _id: 'persist' }))?.n, 42);
    } finally {
      await mc.close();
    }
  });

  test('killMongo crashes the database (SIGKILL: open connections reset, nothing shut down in order); startMongo brings it back with its data', async (t) => {
    if (!(await canControl('mongo'))) return t.skip('MONGO_URL is set');
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 1500 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.updateOne({ _id: 'crashed' }, { $set: { n: 9 } }, { upsert: true });
      const before = readState().mongo;
      const pgBefore = readState().postgres?.pid;
      let t0 = Date.now();
      await killMongo();
      console.log(`killMongo: ${Date.now() - t0} ms`);
      if (before?.source === 'local') assert.equal(pidAlive(before.pid), false, 'the FerretDB process is gone');
      assert.equal(readState().mongo?.stopped, true, 'recorded as stopped, so status says so and startMongo starts it');
      assert.equal(await mongoOk(infra.mongoUrl), false);
      await assert.rejects(col.findOne({ _id: 'crashed' }));
      if (pgBefore) assert.ok(pidAlive(pgBefore), 'PostgreSQL kept running under the killed FerretDB');
      t0 = Date.now();
      await startMongo();
      console.log(`startMongo after killMongo: ${Date.now() - t0} ms`);
      assert.equal((await infraStatus()).find((e) => e.kind === 'mongo')?.url, infra.mongoUrl, 'the same URL');
      assert.equal((await col.findOne({ _id: 'crashed' }))?.n, 9, 'the data survived the crash, and the existing client recovered by itself');
    } finally {
      await mc.close();
    }
  });

  test('the local MongoDB-wire server is FerretDB on our PostgreSQL, configured for index use', async (t) => {
    const r = localPostgres();
    if ('skip' in r) {
      if (readState().mongo?.source === 'local' && postgresBinDir()) assert.fail(`PostgreSQL is installed but not used: ${r.skip}`);
      return t.skip(r.skip);
    }
    const { pg } = r;
    assert.ok(pidAlive(pg.pid), 'postmaster alive');
    assert.equal(readState().mongo?.source === 'local' && readState().mongo?.url, infra.mongoUrl);
    assert.deepEqual(new Set(localDatabaseProcesses()), new Set([(readState().mongo as { pid: number }).pid, pg.pid]));
    const settings = await psqlOk(pg, `SELECT current_setting('plan_cache_mode') || ' ' || current_setting('listen_addresses') || ' ' || pg_encoding_to_char(encoding) || ' ' || datcollate FROM pg_database WHERE datname = current_database()`, 'ferretdb', 'reading settings');
    assert.equal(settings, 'force_custom_plan 127.0.0.1 UTF8 C');
  });

  test('a Mongo index gets GIN twins that serve FerretDB\'s pushed-down equality; dropping it drops them', async (t) => {
    const r = localPostgres();
    if ('skip' in r) return t.skip(r.skip);
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 5000 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; userId: string; seq: number }>('gin');
      await col.drop().catch(() => undefined);
      await col.createIndex({ userId: 1, seq: 1 }, { name: 'user_seq' });
      let idx = await pgIndexes(r.pg, 'infra_test', 'gin');
      const gins = [...idx.values()].filter((d) => / USING gin /.test(d));
      // userId, the first key of user_seq (seq, a later key, serves no equality read on its
      // own, as on MongoDB), and _id of the collection's own unique index
      for (const field of ['_id', 'userId'])
        assert.ok(gins.some((d) => d.includes(`(((_jsonb -> '${field}'::text)) jsonb_path_ops)`)), `a GIN index on ${field}: ${[...idx.values()].join('\n')}`);
      assert.equal(gins.length, 2);

      // FerretDB's own statement shape, planned as its connections plan it.
      await col.insertMany(Array.from({ length: 20_000 }, (_, i) => ({ _id: `g${i}`, userId: `u${i % 1000}`, seq: i })));
      const table = [...idx.values()][0]!.match(/ ON infra_test\.(\S+) /)![1]!;
      const plan = await psqlOk(
        r.pg,
        `ANALYZE infra_test.${table}; PREPARE q(text, jsonb) AS SELECT _jsonb FROM infra_test.${table} WHERE _jsonb->$1 @> $2;
         ${'EXECUTE q(\'userId\', \'"u7"\');'.repeat(6)} EXPLAIN EXECUTE q('userId', '"u7"');`,
        'ferretdb',
        'explaining',
      );
      assert.match(plan, /Bitmap Index Scan on \S+_gin/, plan);
      assert.equal((await col.find({ userId: 'u7' }).toArray()).length, 20);

      await col.dropIndex('user_seq');
      idx = await pgIndexes(r.pg, 'infra_test', 'gin');
      assert.deepEqual(
        [...idx.values()].filter((d) => / USING gin /.test(d)).map((d) => d.match(/'(\w+)'::text/)![1]),
        ['_id'],
        'the GIN twins of user_seq went with it',
      );
    } finally {
      await mc.close();
    }
  });

  test('FerretDB killed with SIGKILL comes back over the same PostgreSQL data; PostgreSQL never stopped', async (t) => {
    const r = localPostgres();
    if ('skip' in r) return t.skip(r.skip);
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 3000 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.updateOne({ _id: 'survivor' }, { $set: { n: 7 } }, { upsert: true });
      const ferret = (readState().mongo as { pid: number }).pid;
      process.kill(ferret, 'SIGKILL');
      assert.ok(await waitPidExit(ferret, 5000));
      assert.equal(await mongoOk(infra.mongoUrl), false);
      const again = await ensureInfra({ quiet: true });
      assert.equal(again.mongoUrl, infra.mongoUrl);
      assert.notEqual((readState().mongo as { pid: number }).pid, ferret);
      assert.equal(readState().postgres?.pid, r.pg.pid, 'the same postmaster');
      assert.equal((await col.findOne({ _id: 'survivor' }))?.n, 7);
    } finally {
      await mc.close();
    }
  });

  test('servers given via env are never controlled', async () => {
    const saved = process.env.AMQP_URL;
    process.env.AMQP_URL = 'amqp://guest:guest@127.0.0.1:1';
    try {
      assert.equal(await canControl('rabbit'), false);
      await assert.rejects(stopRabbit(), /AMQP_URL.*did not start/);
      const i = await ensureInfra({ quiet: true });
      assert.equal(i.amqpSource, 'env');
      assert.equal(i.amqpUrl, 'amqp://guest:guest@127.0.0.1:1');
    } finally {
      if (saved === undefined) delete process.env.AMQP_URL;
      else process.env.AMQP_URL = saved;
    }
  });

  test('stopInfra resumes a paused server before stopping it (a stopped process ignores SIGTERM; last: it stops everything)', async (t) => {
    if (!(await canControl('rabbit'))) return t.skip('AMQP_URL is set');
    await pauseRabbit();
    const t0 = Date.now();
    await stopInfra();
    assert.ok(Date.now() - t0 < 30_000, `stopInfra took ${Date.now() - t0} ms`);
    assert.equal(readState().rabbit, undefined, 'the node is stopped and forgotten');
  });
});
