import type Koa from 'koa';
import Router from '@koa/router';
import type { Lifecycle, Logger, ServiceMetrics } from '@chat/common/config';
import type { VerifyUserToken } from '@chat/common/jwt';
import type { UserDirectory } from '@chat/common/user-directory';
import { createKoaApp, healthRouter, jsonBody, koaAdmission, koaRequireAuth, type Admission, type ReadinessCheck } from '@chat/common/koa';
import { koaDatabaseGate, koaDatabaseUnavailable, type DatabaseOutage } from '@chat/common/mongo';
import type { ContactsOf } from './contacts.js';
import type { ConversationsRepository } from './conversations-repo.js';
import type { Groups } from './groups.js';
import type { MessagesRepository } from './messages-repo.js';
import type { Presence } from './presence.js';
import type { Receipts } from './receipts.js';
import { conversationsRouter } from './routes/conversations.js';
import { historyRoute } from './routes/history.js';
import { internalRouter } from './routes/internal.js';
import { presenceRoute } from './routes/presence.js';
import { sendRoute } from './routes/send.js';
import { syncRoute } from './routes/sync.js';
import type { SendMessage } from './send-message.js';
import type { Timeline } from './timeline.js';

export interface ChatAppDeps {
  bodyLimitBytes: number;
  /** Exact origins of browser pages allowed to call cross-origin (CORS_ORIGINS); empty: none. */
  corsOrigins: readonly string[];
  logger: Logger;
  metrics: ServiceMetrics;
  lifecycle: Lifecycle;
  /** Verifies user tokens locally against Auth's JWKS. */
  verifyUser: VerifyUserToken;
  /** Verifies the gateways' service tokens (HS256, SERVICE_TOKEN_SECRET) for /internal. */
  verifyService: (token: string) => Promise<{ service: string }>;
  directory: UserDirectory;
  timeline: Timeline;
  messages: MessagesRepository;
  conversations: ConversationsRepository;
  groups: Groups;
  receipts: Receipts;
  send: SendMessage;
  presence: Presence;
  contactsOf: ContactsOf;
  /** Outermost measuring middleware (database round trips per request). */
  measuring?: readonly Koa.Middleware[];
  /** The database's outage state: while it is known, every database-backed route answers 503 at once. */
  outage?: DatabaseOutage;
  /** The bound on requests doing database work (admission.ts): past it, and past its wait budget, 503 at once. */
  admission?: Admission;
  /** ADMISSION_ANSWER_WITHIN_MS: a retry-safe request (see {@link isRetrySafe}) still running this long after it arrived gets 503. */
  answerWithinMs?: number;
  /** Readiness checks by name (database, broker); draining is always checked. */
  readiness: Record<string, ReadinessCheck>;
}

/**
 * Whether a client may repeat this request harmlessly, so that the admission may answer it 503
 * at its deadline while its work goes on: every read, and a send with a `clientMsgId` (its
 * repeat is answered with the stored original, once the first has stored it, or stores it). A
 * send without one, and the other writes (a new group, a member change), are answered when done.
 */
export function isRetrySafe(ctx: Koa.ParameterizedContext): boolean {
  if (ctx.method === 'GET') return true;
  const { clientMsgId } = jsonBody(ctx);
  return ctx.method === 'POST' && ctx.path === '/chat/send' && typeof clientMsgId === 'string' && clientMsgId !== '';
}

/** The Chat HTTP app, built from its dependencies so tests and index.ts wire it the same way. */
export function createChatApp(deps: ChatAppDeps): Koa {
  const app = createKoaApp({ logger: deps.logger, metrics: deps.metrics, bodyLimitBytes: deps.bodyLimitBytes, corsOrigins: deps.corsOrigins, measuring: deps.measuring ?? [] });
  app.use(koaDatabaseUnavailable(deps.logger, 'message', deps.outage));

  const health = healthRouter({ lifecycle: deps.lifecycle, checks: deps.readiness });
  app.use(health.routes()).use(health.allowedMethods());

  // Every authenticated route reads or writes the database (presence's last-seen times included):
  // after the token check (no database), a known outage answers 503 at once, and then the
  // request waits its turn for one of the admission's slots (or is refused with 503).
  const guards = [deps.outage && koaDatabaseGate(deps.outage), deps.admission && koaAdmission(deps.admission, { answerWithinMs: deps.answerWithinMs, retrySafe: isRetrySafe })].filter((m): m is Koa.Middleware => m !== undefined);
  // auth, then each guard in order, then the route.
  const gated = (auth: Koa.Middleware): Koa.Middleware => guards.reduce<Koa.Middleware>((outer, guard) => (ctx, next) => outer(ctx, () => guard(ctx, next)), auth);
  const requireUser = gated(koaRequireAuth(deps.verifyUser));
  const router = new Router({ prefix: '/chat' });
  router.post('/send', requireUser, sendRoute({ send: deps.send }));
  router.get('/history', requireUser, historyRoute({ messages: deps.messages, conversations: deps.conversations, directory: deps.directory }));
  router.get('/sync', requireUser, syncRoute({ timeline: deps.timeline, directory: deps.directory }));
  app.use(router.routes()).use(router.allowedMethods());
  const conversations = conversationsRouter({ groups: deps.groups, conversations: deps.conversations, receipts: deps.receipts, requireUser });
  app.use(conversations.routes()).use(conversations.allowedMethods());
  const presence = new Router();
  presence.get('/presence', requireUser, presenceRoute({ presence: deps.presence, contactsOf: deps.contactsOf, directory: deps.directory }));
  app.use(presence.routes()).use(presence.allowedMethods());
  const internal = internalRouter({ conversations: deps.conversations, contactsOf: deps.contactsOf, requireAuth: gated(koaRequireAuth(deps.verifyUser, deps.verifyService)) });
  app.use(internal.routes()).use(internal.allowedMethods());
  return app;
}
