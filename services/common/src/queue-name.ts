/**
 * The name of this process's own broker queue (the topology is in broker.ts). It reads the host
 * name and draws random bytes, so it lives apart from the topology, which stays free of Node
 * modules for the browser.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A queue name unique to this process: POD_NAME (or hostname) plus a random suffix. */
export function gatewayQueueName(podName?: string): string {
  const base = (podName || hostname()).replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 100);
  return `gateway.${base}.${randomBytes(4).toString('hex')}`;
}
