/**
 * Read marks in-process, against the real database: the repository's forward-only rule under
 * concurrent writers, the live read signal (who gets it, and not above RECEIPTS_MAX_MEMBERS),
 * and the activity writer moving a sender's own mark. The publisher is the one thing replaced:
 * it is an injected interface, recorded here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { createLogger } from '@chat/common/config';
import { stackEnv } from '@chat/testkit';
import { ConversationActivity } from '../src/conversation-activity.js';
import { directConversationId, newGroupConversationId } from '../src/conversation-id.js';
import { createConversationsRepository, membershipId, type ConversationsRepository, type MembershipDoc } from '../src/conversations-repo.js';
import { idempotencyKey, toChatMessage, type MessageDoc } from '../src/message.js';
import { createMessagesRepository, type MessagesRepository } from '../src/messages-repo.js';
import { createReadMarksRepository, type ReadMarksRepository } from '../src/read-marks-repo.js';
import { createReceipts, type ReadSignalFields, type Receipts } from '../src/receipts.js';

const MAX_MEMBERS = 3;
const logger = createLogger({ service: 'chat-test', level: 'warn' });

let client: MongoClient;
let db: Db;
let messages: MessagesRepository;
let conversations: ConversationsRepository;
let marks: ReadMarksRepository;
let receipts: Receipts;
const signals: ReadSignalFields[] = [];

before(async () => {
  const { env } = await stackEnv();
  client = new MongoClient(env.MONGO_URL!, { serverSelectionTimeoutMS: 5_000 });
  db = client.db(`t_read_marks_${randomBytes(4).toString('hex')}`);
  messages = createMessagesRepository(db);
  conversations = createConversationsRepository(db);
  marks = createReadMarksRepository(db);
  await Promise.all([messages.ensureIndexes(), conversations.ensureIndexes(), marks.ensureIndexes()]);
  receipts = createReceipts({ messages, conversations, readMarks: marks, signals: { publishRead: (s) => signals.push(s) }, maxMembers: MAX_MEMBERS, logger });
});
after(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await client?.close();
});

const userId = () => new ObjectId().toHexString();
const user = (id = userId()) => ({ id, username: `u_${id.slice(-6)}`, exp: 0 });

/** Stores a message as the writer does (next position of its conversation). */
async function store(conversationId: string, from: { id: string; username: string }, to: { id: string; username: string } | string[]): Promise<MessageDoc> {
  const _id = new ObjectId();
  const doc = await messages.insert({
    _id,
    conversationId,
    fromId: from.id,
    from: from.username,
    ...(Array.isArray(to) ? { recipientIds: to } : { toId: to.id, to: to.username }),
    text: 't',
    createdAt: new Date(),
    idemKey: idempotencyKey(_id, undefined),
    published: false,
  });
  assert.notEqual(doc, 'repeat');
  return doc as MessageDoc;
}

/** A group of `users` (group_members and list entries), as groups.ts writes them, everyone readable from position 1. */
async function groupOf(users: Array<{ id: string; username: string }>): Promise<string> {
  const id = newGroupConversationId();
  const at = new Date();
  await conversations.addMemberships(users.map((u, i): MembershipDoc => ({
    _id: membershipId(id, u.id), conversationId: id, type: 'group', userId: u.id, username: u.username, joinedAt: new Date(at.getTime() + i),
    role: i === 0 ? 'owner' : 'member', since: 1, name: 'g', memberCount: users.length, lastPosition: 0, lastActivityAt: at, lastMessageJson: null,
  })));
  return id;
}

const mark = (conversationId: string, uid: string, position: number) => ({ conversationId, userId: uid, position, messageId: new ObjectId().toHexString(), at: new Date() });

describe('the read marks repository', () => {
  test('concurrent marks from two replicas, in any order, end at the highest; repeats are ignored; lower ones are deleted', async () => {
    const [a, b] = [createReadMarksRepository(db), createReadMarksRepository(db)];
    const c = `dm:${userId()}:${userId()}`;
    const u = userId();
    const positions = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(positions.flatMap((p, i) => [(i % 2 ? a : b).mark(mark(c, u, p)), a.mark(mark(c, u, p))]));
    assert.equal((await marks.markOf(c, u))?.position, 30);
    assert.equal((await marks.marksOf(u)).get(c)?.position, 30);
    assert.equal((await marks.marksIn(c)).get(u)?.position, 30);
    await marks.mark(mark(c, u, 30));
    const stored = await db.collection('read_marks').find({ conversationId: c, userId: u }).toArray();
    assert.deepEqual(stored.map((d) => d.position), [30], 'a mark after the race leaves only the highest');
  });

  test('markAll writes several pairs at once and keeps each one at its highest; an older mark does not lower one', async () => {
    const c = `g:${randomBytes(12).toString('hex')}`;
    const [u1, u2] = [userId(), userId()];
    await marks.markAll([mark(c, u1, 5), mark(c, u2, 3)]);
    await marks.markAll([mark(c, u1, 2), mark(c, u2, 7), mark(c, u2, 7)]);
    const inC = await marks.marksIn(c);
    assert.deepEqual([inC.get(u1)?.position, inC.get(u2)?.position], [5, 7]);
    assert.deepEqual(await marks.readersAt(c, 7), [u2]);
  });
});

describe('the live read signal', () => {
  test('1:1: to both users, the reader included; only when the mark moves', async () => {
    const [alice, bob] = [user(), user()];
    const id = directConversationId(alice.id, bob.id);
    const m1 = await store(id, alice, bob);
    const m2 = await store(id, alice, bob);
    signals.length = 0;
    assert.deepEqual(await receipts.read(bob, id, { messageId: m2._id.toHexString() }), { readUpTo: m2._id.toHexString(), unread: 0 });
    assert.equal(signals.length, 1);
    const [signal] = signals;
    assert.deepEqual({ ...signal!, at: undefined }, { conversationId: id, user: { id: bob.id, username: bob.username }, readUpTo: m2._id.toHexString(), at: undefined, to: [alice.id, bob.id].sort() });
    assert.match(signal!.at, /Z$/);
    await receipts.read(bob, id, { messageId: m1._id.toHexString() });
    await receipts.read(bob, id, { messageId: m2._id.toHexString() });
    assert.equal(signals.length, 1, 'an older or the same message sends nothing');
  });

  test(`a group: to every member up to ${MAX_MEMBERS}; above it, the mark is stored and nothing is sent`, async () => {
    const members = [user(), user(), user()];
    const small = await groupOf(members);
    const said = await store(small, members[0]!, members.map((m) => m.id));
    signals.length = 0;
    await receipts.read(members[1]!, small, { messageId: said._id.toHexString() });
    assert.deepEqual(signals.map((s) => [s.user.id, s.to]), [[members[1]!.id, members.map((m) => m.id)]]);

    const many = [...members, user()];
    const big = await groupOf(many);
    const bigSaid = await store(big, many[0]!, many.map((m) => m.id));
    signals.length = 0;
    assert.deepEqual(await receipts.read(many[3]!, big, { messageId: bigSaid._id.toHexString() }), { readUpTo: bigSaid._id.toHexString(), unread: 0 });
    assert.deepEqual(signals, []);
    assert.equal((await marks.markOf(big, many[3]!.id))?.messageId, bigSaid._id.toHexString());
  });

  test('a publisher that throws fails nothing: the mark is stored and answered', async () => {
    const [alice, bob] = [user(), user()];
    const id = directConversationId(alice.id, bob.id);
    const m = await store(id, alice, bob);
    const failing = createReceipts({ messages, conversations, readMarks: marks, signals: { publishRead: () => { throw new Error('broker gone'); } }, maxMembers: MAX_MEMBERS, logger: createLogger({ service: 'chat-test', level: 'silent' }) });
    assert.deepEqual(await failing.read(bob, id, { messageId: m._id.toHexString() }), { readUpTo: m._id.toHexString(), unread: 0 });
  });
});

describe('the activity writer', () => {
  test("a flush moves each sender's own mark to their newest message in each conversation, and still writes the list", async () => {
    const [alice, bob, carol] = [user(), user(), user()];
    const dm = directConversationId(alice.id, bob.id);
    const g = await groupOf([alice, bob, carol]);
    const activity = new ConversationActivity({ conversations, readMarks: marks, logger, intervalMs: 60_000 });
    const sent: MessageDoc[] = [];
    for (const [c, from, to] of [[dm, alice, bob], [dm, bob, alice], [dm, alice, bob], [g, carol, [alice.id, bob.id, carol.id]], [g, alice, [alice.id, bob.id, carol.id]], [g, carol, [alice.id, bob.id, carol.id]]] as const) {
      const doc = await store(c, from, to as never);
      sent.push(doc);
      activity.note(doc, JSON.stringify(toChatMessage(doc)));
    }
    await activity.flush();
    const id = (i: number) => sent[i]!._id.toHexString();
    const inDm = await marks.marksIn(dm);
    assert.deepEqual([inDm.get(alice.id)?.messageId, inDm.get(bob.id)?.messageId], [id(2), id(1)]);
    const inGroup = await marks.marksIn(g);
    assert.deepEqual([inGroup.get(carol.id)?.messageId, inGroup.get(alice.id)?.messageId, inGroup.has(bob.id)], [id(5), id(4), false]);
    assert.equal((await conversations.membership(dm, bob.id))?.lastPosition, 3, 'the list is written as before');
    assert.equal((await conversations.membership(g, bob.id))?.lastPosition, 3);
    const bobsList = await receipts.forList(bob.id, [(await conversations.membership(dm, bob.id))!, (await conversations.membership(g, bob.id))!]);
    assert.deepEqual(bobsList.get(dm), { unread: 1, readUpTo: id(1), peerReadUpTo: id(2) });
    assert.deepEqual(bobsList.get(g), { unread: 3, readUpTo: null });
    await activity.stop();
  });
});
