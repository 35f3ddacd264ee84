/**
 * Database round trips per request, counted from the driver's command monitoring.
 *
 * Each request runs in its own AsyncLocalStorage scope; every command the driver starts inside
 * that scope (the driver is async/await throughout, so the scope follows the operation to the
 * point where the command is written) adds one to the scope's count. Background work (the
 * outbox relay, index creation) runs outside any request scope and is not counted. The cost is
 * one event per command and one histogram observation per request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import type { MongoClient } from 'mongodb';
import { Histogram, type Registry } from 'prom-client';

const scope = new AsyncLocalStorage<{ commands: number }>();

/** Counts the client's commands into the current request's scope. The client needs `monitorCommands: true`. */
export function countRoundTrips(client: MongoClient): void {
  client.on('commandStarted', () => {
    const current = scope.getStore();
    if (current) current.commands++;
  });
}

/** The histogram's name after the service's prefix (`chat_db_round_trips_per_request`). */
export const ROUND_TRIPS_METRIC = 'db_round_trips_per_request';

/**
 * Observes each request's database round trips in `<service>_db_round_trips_per_request`,
 * labelled like the duration histogram (the router's template, or `unmatched`).
 */
export function koaRoundTrips(service: string, registry: Registry): Middleware {
  const histogram = new Histogram({
    name: `${service}_${ROUND_TRIPS_METRIC}`,
    help: 'Database commands started on behalf of one request (driver command monitoring)',
    labelNames: ['route', 'method', 'status'],
    buckets: [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50],
    registers: [registry],
  });
  return async (ctx, next) => {
    const counter = { commands: 0 };
    try {
      await scope.run(counter, next);
    } finally {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      if (typeof route === 'string') histogram.observe({ route, method: ctx.method, status: String(ctx.status) }, counter.commands);
    }
  };
}
