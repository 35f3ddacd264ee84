/**
 * A taken port stops the gateway at start, with a message and a non-zero exit, as it does Auth and
 * Chat. uWS sets SO_REUSEPORT by default, so without the exclusive-port option a second gateway
 * started beside a running one listened too, and the kernel split new connections between them.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runUntilExit, startStack, TestClient, type Stack } from '@chat/testkit';

describe('gateway: a port that is already taken', () => {
  let s: Stack;

  before(async () => {
    s = await startStack({ services: ['auth', 'gateway'] });
  });
  after(() => s?.stop());

  it('exits 1 naming the port when a plain TCP server holds it', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const port = (holder.address() as AddressInfo).port;
    try {
      const { code, output } = await runUntilExit('gateway', s.envOf('gateway'), 20_000, { port });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`cannot listen on port ${port}: it is already in use`));
    } finally {
      holder.close();
    }
  });

  it('exits 1 when another gateway holds it, and the running one keeps every connection', async () => {
    const { code, output } = await runUntilExit('gateway', s.envOf('gateway'), 20_000, { port: s.gateway.port });
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`cannot listen on port ${s.gateway.port}: it is already in use`));
    const user = await s.user('port');
    const clients = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(s.gateway.url, user.token)));
    assert.equal(clients.length, 10);
    for (const c of clients) c.close();
  });

  it('exits 1 naming METRICS_PORT when that one is taken', async () => {
    const { code, output } = await runUntilExit('gateway', s.envOf('gateway'), 20_000, { metricsPort: s.gateway.metricsPort });
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`METRICS_PORT ${s.gateway.metricsPort} is already in use`));
  });
});
