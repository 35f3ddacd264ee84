/**
 * The project's origin, re-implemented for scenario 8: the Express app the chat backend grew out
 * of, as its public design describes its write path, kept small so that "ours vs the origin" is
 * measured on the same database server, broker and machine in the same run.
 *
 *   POST /chat/send {to, text}  JWT user → one insertOne into ONE `messages` collection → one
 *                               publish of the message to a fanout exchange of its own → 201 {message}
 *   GET /chat/history?with=&limit=  the pair's messages, newest first (createdAt desc), `limit` of them
 *
 * What it deliberately shares with ours, so the comparison measures the data path and not the
 * setup: token verification (the same @chat/common verifier against Auth's JWKS, so a request
 * costs the same ES256 check in both), the MongoDB driver (plain `mongodb`, no Mongoose: its
 * document hydration would only make the origin slower), and amqplib. What it does not have, as
 * the origin did not: no recipient lookup, no idempotency key, no per-user timeline or sequence,
 * no outbox (a publish that fails after the insert is lost), and a publish without confirms.
 *
 * Environment: PORT, MONGO_URL, ORIGIN_MONGO_DB (origin_bench), AMQP_URL, ORIGIN_EXCHANGE
 * (origin.events), AUTH_URL (for /.well-known/jwks.json), JWT_ISSUER (chat-auth), JWT_AUDIENCE (chat).
 */
import amqp from 'amqplib';
import express, { type NextFunction, type Request, type Response } from 'express';
import { MongoClient, type ObjectId } from 'mongodb';
import { bearerToken, createJwtVerifier, type TokenUser } from '@chat/common/jwt';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const port = Number(env('PORT'));
const exchange = env('ORIGIN_EXCHANGE', 'origin.events');
const verifyUser = createJwtVerifier({ jwksUrl: `${env('AUTH_URL')}/.well-known/jwks.json`, issuer: env('JWT_ISSUER', 'chat-auth'), audience: env('JWT_AUDIENCE', 'chat') });

/** A stored message of the origin: usernames on both sides, as its single collection held them. */
export interface OriginMessage {
  _id?: ObjectId;
  from: string;
  to: string;
  text: string;
  createdAt: Date;
}

const mongo = new MongoClient(env('MONGO_URL'));
await mongo.connect();
const messages = mongo.db(env('ORIGIN_MONGO_DB', 'origin_bench')).collection<OriginMessage>('messages');
// The history query's index (the pair, newest first); the origin's schema declared it.
await messages.createIndex({ from: 1, to: 1, createdAt: -1 });

const connection = await amqp.connect(env('AMQP_URL'));
const channel = await connection.createChannel();
await channel.assertExchange(exchange, 'fanout', { durable: true });

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '64kb' }));

type Authed = Request & { user?: TokenUser };

async function requireUser(req: Authed, res: Response, next: NextFunction): Promise<void> {
  const token = bearerToken(req.headers.authorization);
  if (!token) {
    res.status(401).json({ error: { code: 'unauthorized', message: 'missing bearer token' } });
    return;
  }
  try {
    req.user = await verifyUser(token);
  } catch (err) {
    const status = (err as { status?: number }).status ?? 401;
    res.status(status).json({ error: { code: status === 401 ? 'unauthorized' : 'unavailable', message: (err as Error).message } });
    return;
  }
  next();
}

const badRequest = (res: Response, message: string) => res.status(400).json({ error: { code: 'invalid_request', message } });

app.post('/chat/send', requireUser, async (req: Authed, res: Response) => {
  const { to, text } = (req.body ?? {}) as { to?: unknown; text?: unknown };
  if (typeof to !== 'string' || to.length === 0 || to.length > 64) return badRequest(res, 'to must be a username');
  if (typeof text !== 'string' || text.trim().length === 0 || text.length > 4000) return badRequest(res, 'text must be 1 to 4000 characters');
  const doc: OriginMessage = { from: req.user!.username, to, text, createdAt: new Date() };
  const { insertedId } = await messages.insertOne(doc);
  const message = { id: insertedId.toHexString(), from: doc.from, to: doc.to, text: doc.text, createdAt: doc.createdAt.toISOString() };
  channel.publish(exchange, '', Buffer.from(JSON.stringify({ type: 'new_message', message })), { contentType: 'application/json' });
  res.status(201).json({ message });
});

app.get('/chat/history', requireUser, async (req: Authed, res: Response) => {
  const peer = req.query.with;
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  if (typeof peer !== 'string' || peer.length === 0) return badRequest(res, 'with must be a username');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return badRequest(res, 'limit must be an integer from 1 to 100');
  const me = req.user!.username;
  const docs = await messages
    .find({ $or: [{ from: me, to: peer }, { from: peer, to: me }] })
    .sort({ createdAt: -1 })
    .limit(limit)
    .toArray();
  res.json({ messages: docs.map((d) => ({ id: d._id!.toHexString(), from: d.from, to: d.to, text: d.text, createdAt: d.createdAt.toISOString() })) });
});

app.get('/readyz', (_req, res) => {
  res.json({ ok: true });
});

app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
  res.status(500).json({ error: { code: 'internal', message: err.message } });
});

const server = app.listen(port, '127.0.0.1');
server.keepAliveTimeout = 65_000;

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections();
  await channel.close().catch(() => undefined);
  await connection.close().catch(() => undefined);
  await mongo.close().catch(() => undefined);
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
