/**
 * MongoDB pieces every database-backed service shares: the connection-string variable, error
 * classification (a unique-index refusal; an outage that must be a 503, never a 500), the
 * middleware that maps outages, and connect/readiness helpers.
 */
import type { Middleware } from 'koa';
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoClient,
  type Collection,
  type Db,
  type MongoClientOptions,
  type OptionalUnlessRequiredId,
} from 'mongodb';
import type { VarSpec } from './env-config.js';
import { RequestError } from './errors.js';
import { sleep } from './lifecycle.js';
import type { Logger } from './logger.js';
import { DatabaseUnavailableError, type DatabaseOutage } from './mongo-outage.js';

/**
 * A MongoDB connection string. `env.url` cannot be used: WHATWG URL parsing rejects the
 * multi-host form (`mongodb://a:27017,b:27017/?replicaSet=rs0`) that replica sets need.
 */
export function mongoUrlSpec(): VarSpec<string> {
  return {
    doc: 'MongoDB connection string, e.g. mongodb://127.0.0.1:27017',
    parse(raw) {
      if (!/^mongodb(\+srv)?:\/\/\S+$/.test(raw.trim())) throw new Error('must be a mongodb:// or mongodb+srv:// connection string');
      return raw.trim();
    },
  };
}

/**
 * How often the driver's monitor checks the server (its own connection, a `hello` in poll mode).
 * A check that gets no answer within the connect timeout marks the server unknown and
 * interrupts the commands in flight on its pool, so a silent partition (nothing reset, nothing
 * refused) ends them after at most this plus `timeoutMs`: measured, with the driver's default
 * 10 s, commands on a stalled connection waited until the client gave up
 * (services/chat/test/database-outage.test.ts). The driver's floor is 500 ms; the cost is one
 * `hello` per process every half second.
 */
export const MONGO_HEARTBEAT_MS = 500;

/**
 * A client whose short server-selection timeout turns an outage into a quick 503 instead of
 * requests hanging for the driver's default 30 s, and whose frequent heartbeat
 * ({@link MONGO_HEARTBEAT_MS}) ends commands stuck on a connection that went silent. Polling,
 * not streaming: a streamed heartbeat's socket timeout adds the heartbeat period to the connect
 * timeout, and FerretDB and MongoDB then behave alike.
 */
export function createMongoClient(url: string, appName: string, timeoutMs: number, extra: Pick<MongoClientOptions, 'monitorCommands'> = {}): MongoClient {
  return new MongoClient(url, {
    appName,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    heartbeatFrequencyMS: MONGO_HEARTBEAT_MS,
    serverMonitoringMode: 'poll',
    ...extra,
  });
}

/** A unique index refused the write (E11000): the real guard for names, idempotency keys and sequence numbers. */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoError && err.code === 11000;
}

/**
 * What a failed unordered insertMany of `documents` documents says about each of them: the
 * write error of each refused one by index, every other one stored. Undefined when the error
 * does not say: the driver reports a failure of the whole write (the connection lost, no server
 * selected, a command error) as a MongoBulkWriteError too, with no write errors and the real
 * error in `errorResponse`. Which documents were stored is then unknown, and treating the
 * missing write errors as "none refused" acknowledges documents that were never written
 * (tests/system/chaos-ledger.integration.test.ts found it: a FerretDB stopped under load left
 * skipped timeline positions and delivered messages that no database held).
 */
export function perDocumentWriteErrors(err: unknown, documents: number): Map<number, { code?: number; errmsg?: string }> | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  const list = (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).filter((e) => e !== undefined);
  if (list.length === 0 || err.result?.insertedCount + list.length !== documents) return undefined;
  return new Map(list.map((e) => [e.index, { code: e.code, errmsg: e.errmsg }]));
}

/** The error a whole failed write hides in a MongoBulkWriteError without write errors (see perDocumentWriteErrors), else `err`. */
function writeFailureCause(err: unknown): unknown {
  if (!(err instanceof MongoBulkWriteError) || (Array.isArray(err.writeErrors) ? err.writeErrors.length > 0 : err.writeErrors !== undefined)) return err;
  const cause = (err as { errorResponse?: unknown }).errorResponse;
  return cause instanceof Error ? cause : err;
}

/**
 * insertMany, unordered; documents whose _id exists already are left as they are (a repeat, or
 * a race with the same write): the insert-only way of writing state (mongo-portability.ts, rule 1).
 * Anything else, a whole write that failed included, is thrown.
 */
export async function insertIgnoringRepeats<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
  } catch (err) {
    const refused = perDocumentWriteErrors(err, docs.length);
    if (!refused || ![...refused.values()].every((e) => e.code === 11000)) throw err;
  }
}

/** Socket errors the driver can let through unwrapped (measured: `write ECONNRESET` from a connection reset mid-insert). */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * The database cannot be reached right now: an outage (503), not a bug (500). A client closed
 * under a request counts too: that is a shutdown reaching work still running, which the drain
 * answers 503 (koa-server.ts), never a bug.
 */
export function isDatabaseOutage(err: unknown): boolean {
  const cause = writeFailureCause(err);
  if (cause !== err) return isDatabaseOutage(cause);
  return (
    err instanceof DatabaseUnavailableError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoNetworkError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoOperationTimeoutError ||
    (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string' && NETWORK_ERROR_CODES.has(String((err as NodeJS.ErrnoException).code)))
  );
}

/**
 * A database that cannot be reached is an outage, not a bug: the client gets 503 (retry
 * later, `Retry-After`) instead of the generic 500 the error handler gives anything unexpected.
 * With `outage`, the first such failure marks the outage (mongo-outage.ts), so the requests
 * after it are refused at once instead of each waiting its own server selection; refusals of a
 * known outage are not logged one by one (the outage logs its start and end).
 */
export function koaDatabaseUnavailable(logger: Logger, what: string, outage?: DatabaseOutage): Middleware {
  const retryAfter = String(outage?.retryAfterSeconds ?? 1);
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isDatabaseOutage(err)) throw err;
      if (!(err instanceof DatabaseUnavailableError)) {
        logger.warn({ err, method: ctx.method, path: ctx.path }, 'database unreachable');
        outage?.markDown(err);
      }
      throw new RequestError(503, 'unavailable', `the ${what} database is unreachable, retry shortly`, { headers: { 'Retry-After': retryAfter } });
    }
  };
}

/**
 * Refuses a request at once (503, through koaDatabaseUnavailable) while the outage is known.
 * Run on database-backed routes only, after their token check (Chat: every authenticated
 * route): /healthz, /readyz, unknown paths and a bad token answer as they always do.
 */
export function koaDatabaseGate(outage: DatabaseOutage): Middleware {
  return async (_ctx, next) => {
    outage.assertReachable();
    await next();
  };
}

/**
 * Connects, retrying until it succeeds or `stopped()` turns true.
 *
 * This is needed because of how the driver (6.x) auto-connects: when the very first connection
 * fails it closes the topology it created but keeps it, so every later operation fails with
 * "Topology is closed" even after the database comes up. An explicit `connect()` replaces a
 * topology that is not connected. Once connected, the driver's own monitoring handles outages.
 */
export async function connectWithRetry(client: MongoClient, opts: { logger: Logger; retryMs: number; stopped: () => boolean }): Promise<boolean> {
  for (let attempt = 1; !opts.stopped(); attempt++) {
    try {
      await client.connect();
      if (attempt > 1) opts.logger.info({ attempt }, 'database connected');
      return true;
    } catch (err) {
      if (opts.stopped()) break;
      opts.logger.warn({ err, attempt, retryInMs: opts.retryMs }, 'database connection failed; retrying');
      await sleep(opts.retryMs);
    }
  }
  return false;
}

/**
 * The readiness check: the database answers a ping and the indexes exist, within `timeoutMs`
 * (false after that; the driver's own wait is the longer MONGO_TIMEOUT_MS). A ping that answers
 * ends a known `outage` at once.
 */
export function databaseReadiness(db: Db, ensureIndexes: () => Promise<unknown>, timeoutMs: number, outage?: DatabaseOutage): () => Promise<boolean> {
  return async () => {
    const check = (async () => {
      await db.command({ ping: 1 });
      outage?.answered(); // ready and refusing would disagree until the next probe
      await ensureIndexes();
      return true;
    })();
    check.catch(() => undefined); // a failure after the deadline is not an unhandled rejection
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([check, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
