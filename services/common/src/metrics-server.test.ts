import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { serveMetrics } from './metrics-server.js';

const logger = createLogger({ service: 'test', level: 'silent' });

test('serves GET /metrics in the Prometheus text format, and nothing else', async () => {
  const metrics = createMetrics('test');
  const server = await serveMetrics({ port: 0, host: '127.0.0.1', metrics, logger });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ok = await fetch(`${base}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await ok.text(), /process_cpu_user_seconds_total\{service="test"\}/);
    const other = await fetch(`${base}/healthz`);
    assert.equal(other.status, 404);
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, 'not_found');
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  } finally {
    server.close();
  }
});

test('a METRICS_PORT that another process holds fails the start, naming the port', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, () => r()));
  const port = (holder.address() as AddressInfo).port;
  try {
    await assert.rejects(serveMetrics({ port, metrics: createMetrics('test'), logger }), new RegExp(`METRICS_PORT ${port} is already in use`));
  } finally {
    holder.close();
  }
});
