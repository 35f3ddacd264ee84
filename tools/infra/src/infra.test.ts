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
import { canControl, ensureInfra, repoRoot, restartRabbit, startMongo, startRabbit, stopInfra, stopMongo, stopRabbit, type Infra } from './index.js';
import { amqpProbe, mongoPing } from './probe.js';
import { readState } from './state.js';
import { randomFreePort } from './util.js';

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

describe('@chat/infra', { timeout: 240_000 }, () => {
  before(async () => {
    await stopInfra().catch(() => {}); // leftovers of an interrupted run
    rmSync(dir, { recursive: true, force: true });
  });
  after(async () => {
    await stopInfra();
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

  test('stopMongo makes MongoDB unreachable; startMongo brings it back with its data', async (t) => {
    if (!(await canControl('mongo'))) return t.skip('MONGO_URL is set');
    const mc = new MongoClient(infra.mongoUrl, { serverSelectionTimeoutMS: 1500 });
    try {
      const col = mc.db('infra_test').collection<{ _id: string; n: number }>('t');
      await col.updateOne({ _id: 'persist' }, { $set: { n: 42 } }, { upsert: true });
      let t0 = Date.now();
      await stopMongo();
      console.log(`stopMongo: ${Date.now() - t0} ms`);
      assert.equal(await mongoOk(infra.mongoUrl), false);
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
});
