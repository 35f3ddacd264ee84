/** MetricSampler against a real HTTP server that serves Prometheus text, and one that stops answering. */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { sleep } from '@chat/testkit';
import { MetricSampler } from './metric-sampler.ts';

test('samples a labelled gauge, leaves holes where the service does not answer, and reads max and last', async () => {
  let value = 1;
  let answering = true;
  const server = createServer((_req, res) => {
    if (!answering) return; // hangs, as a paused process would: the sampler must not wait on it
    res.end(`# TYPE g gauge\ng{kind="a"} ${value}\ng{kind="b"} 100\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sampler = new MetricSampler(50);
  const a = sampler.add('a', () => ({ metricsUrl: url }), 'g', { kind: 'a' });
  sampler.start();
  try {
    await sleep(300);
    value = 7;
    await sleep(300);
    const mid = Date.now();
    answering = false;
    await sleep(400);
    const during = a.samples.length;
    answering = true;
    value = 3;
    await sleep(300);
    sampler.stop();
    assert.equal(MetricSampler.max(a, 0, Date.now()), 7);
    assert.equal(MetricSampler.last(a), 3);
    assert.equal(MetricSampler.last(a, mid), 7);
    assert.ok(a.samples.every((s) => s.value !== 100), 'only the series with the labels asked for');
    assert.ok(a.samples.length > during, 'sampling went on after the service answered again');
    assert.equal(MetricSampler.max(a, mid + 100, mid + 350), undefined, 'no sample while it did not answer');
  } finally {
    sampler.stop();
    server.closeAllConnections();
    server.close();
  }
});
