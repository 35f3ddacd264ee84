/**
 * The name of this process's own broker queue (the topology is in broker.ts). It reads the host
 * name and draws random bytes, so it lives apart from the topology, which stays free of Node
 * modules for the browser.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A queue name unique to this process: the service, POD_NAME (or hostname), a random suffix. */
export function processQueueName(service: string, podName?: string): string {
  const base = (podName || hostname()).replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 100);
  return `${service}.${base}.${randomBytes(4).toString('hex')}`;
}

export function gatewayQueueName(podName?: string): string {
  return processQueueName('gateway', podName);
}
