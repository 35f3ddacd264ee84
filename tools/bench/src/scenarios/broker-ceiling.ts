/**
 * Scenario 1, the broker ceiling: raw amqplib on the same broker, publishing persistent
 * event-sized messages to a fanout exchange with confirms awaited every `batch` messages,
 * while a consumer (prefetch and per-message acks as a gateway uses them) drains the bound
 * queue. The rate is messages over the time until the last one was consumed.
 */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import type { ProgressLine } from '../progress.js';

export interface CeilingResult {
  count: number;
  batch: number;
  payloadBytes: number;
  /** Published, confirmed and consumed, per second of the whole run. */
  msgPerSec: number;
  /** Published and confirmed, per second (the publisher side alone). */
  publishConfirmedPerSec: number;
  elapsedMs: number;
}

export function sampleEvent(i: number): Buffer {
  const t = new Date().toISOString();
  return Buffer.from(
    JSON.stringify({
      type: 'new_message',
      version: 1,
      message: { id: `ceiling-${i.toString(36).padStart(8, '0')}`, from: 'bench_sender', to: `bench_user_${i % 5000}`, text: 'hello, this is a benchmark message', createdAt: t },
      cursors: { '65f0c0ffee0000000000abcd': 'eyJ1IjoiNjVmMGMwZmZlZTAwMDAwMDAwMDBhYmNkIiwicyI6MTIzfQ' },
    }),
  );
}

export async function brokerCeiling(opts: { amqpUrl: string; count: number; batch?: number; prefetch?: number; progress?: ProgressLine; timeoutMs?: number }): Promise<CeilingResult> {
  const batch = opts.batch ?? 1000;
  const exchange = `bench.ceiling.${randomBytes(4).toString('hex')}`;
  const pubConn = await amqp.connect(opts.amqpUrl);
  const subConn = await amqp.connect(opts.amqpUrl);
  try {
    const sub = await subConn.createChannel();
    await sub.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
    const { queue } = await sub.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await sub.bindQueue(queue, exchange, '');
    await sub.prefetch(opts.prefetch ?? 1000);
    let consumed = 0;
    let tLast = 0;
    const allConsumed = new Promise<void>((resolve) => {
      void sub.consume(queue, (msg) => {
        if (!msg) return;
        sub.ack(msg);
        if (++consumed === opts.count) {
          tLast = performance.now();
          resolve();
        }
      });
    });
    const pub = await pubConn.createConfirmChannel();
    const payload = sampleEvent(0);
    const t0 = performance.now();
    let published = 0;
    let lastProgress = 0;
    while (published < opts.count) {
      const n = Math.min(batch, opts.count - published);
      for (let i = 0; i < n; i++) {
        if (!pub.publish(exchange, '', payload, { persistent: true, contentType: 'application/json' })) await new Promise((r) => pub.once('drain', r));
      }
      await pub.waitForConfirms();
      published += n;
      if (opts.progress && performance.now() - lastProgress > 250) {
        lastProgress = performance.now();
        const s = (lastProgress - t0) / 1000;
        opts.progress.update({ rate: consumed / s, extra: `published ${published}, consumed ${consumed}` });
      }
    }
    const tConfirmed = performance.now();
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`broker ceiling: only ${consumed}/${opts.count} consumed`)), opts.timeoutMs ?? 60_000).unref());
    await Promise.race([allConsumed, timeout]);
    const elapsedMs = tLast - t0;
    await pub.close();
    await sub.close();
    return {
      count: opts.count,
      batch,
      payloadBytes: payload.length,
      msgPerSec: opts.count / (elapsedMs / 1000),
      publishConfirmedPerSec: opts.count / ((tConfirmed - t0) / 1000),
      elapsedMs,
    };
  } finally {
    opts.progress?.done();
    await pubConn.close().catch(() => undefined);
    await subConn.close().catch(() => undefined);
  }
}
