import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCursor, RequestError, type NewMessageEvent } from '@chat/common/contracts';
import { createLogger } from '@chat/common/config';
import type { DirectoryUser, UserDirectory } from '@chat/common/user-directory';
import { Delivery, type LiveFrame } from './delivery.js';
import { createGatewayMetrics } from './metrics.js';
import { SocketRegistry } from './socket-registry.js';
import type { GatewaySocket } from './socket-state.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const users: Record<string, DirectoryUser> = { alice: { id: 'ida', username: 'alice' }, bob: { id: 'idb', username: 'Bob' }, carol: { id: 'idc', username: 'carol' } };

/** An in-process directory with a chosen latency per name (the real one is tested against Auth in test/). */
function directory(latencyMs: Record<string, number> = {}, down = false): UserDirectory & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async resolve(name) {
      lookups.push(name);
      await new Promise((r) => setTimeout(r, latencyMs[name.toLowerCase()] ?? 0));
      if (down) throw new RequestError(503, 'unavailable', 'auth down');
      return users[name.toLowerCase()] ?? null;
    },
  };
}

const socket = (name: string, userId: string) => {
  const state = { user: { id: userId }, name };
  return { getUserData: () => state } as unknown as GatewaySocket;
};

function event(id: string, from: string, to: string, cursors: Record<string, string> = {}): NewMessageEvent {
  return { type: 'new_message', version: 1, message: { id, from, to, text: `text ${id}`, createdAt: new Date().toISOString() }, cursors };
}

function setup(dir: UserDirectory) {
  const registry = new SocketRegistry();
  const metrics = createGatewayMetrics();
  const sent: { socket: string; frame: LiveFrame; parsed: any }[] = [];
  const delivery = new Delivery({
    registry,
    directory: dir,
    metrics,
    logger,
    sink: (ws, frame) => sent.push({ socket: (ws.getUserData() as any).name, frame, parsed: JSON.parse(frame.frame) }),
  });
  return { registry, metrics, sent, delivery };
}

describe('Delivery', () => {
  it('delivers to every socket of the recipient and of the sender, each with its own cursor', async () => {
    const { registry, sent, delivery } = setup(directory());
    registry.add(socket('bob-phone', 'idb'));
    registry.add(socket('alice-laptop', 'ida'));
    registry.add(socket('alice-phone', 'ida'));
    registry.add(socket('carol', 'idc'));
    const ca = encodeCursor({ userId: 'ida', seq: 7 });
    const cb = encodeCursor({ userId: 'idb', seq: 3 });
    await delivery.handle(event('m1', 'alice', 'Bob', { ida: ca, idb: cb }));
    assert.deepEqual(sent.map((s) => s.socket).sort(), ['alice-laptop', 'alice-phone', 'bob-phone']);
    for (const s of sent) {
      assert.equal(s.parsed.type, 'new_message');
      assert.equal(s.parsed.message.id, 'm1');
      assert.equal(s.parsed.cursor, s.socket.startsWith('alice') ? ca : cb);
      assert.equal(s.frame.seq, s.socket.startsWith('alice') ? 7 : 3);
    }
  });

  it('keeps arrival order even when an earlier event\'s lookup is slower', async () => {
    const { registry, sent, delivery } = setup(directory({ carol: 80 }));
    registry.add(socket('bob', 'idb'));
    const first = delivery.handle(event('m1', 'carol', 'bob'));
    const second = delivery.handle(event('m2', 'alice', 'bob'));
    await Promise.all([first, second]);
    assert.deepEqual(sent.map((s) => s.parsed.message.id), ['m1', 'm2']);
  });

  it('delivers a message to oneself once per socket', async () => {
    const { registry, sent, delivery } = setup(directory());
    registry.add(socket('alice', 'ida'));
    await delivery.handle(event('m1', 'alice', 'alice', { ida: encodeCursor({ userId: 'ida', seq: 1 }) }));
    assert.equal(sent.length, 1);
  });

  it('never stamps a cursor that names another user', async () => {
    const { registry, sent, delivery } = setup(directory());
    registry.add(socket('bob', 'idb'));
    await delivery.handle(event('m1', 'alice', 'bob', { idb: encodeCursor({ userId: 'ida', seq: 1 }) }));
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.parsed.cursor, undefined);
  });

  it('counts events with no local socket as dropped, without any lookup when nobody is connected', async () => {
    const dir = directory();
    const { metrics, delivery, registry } = setup(dir);
    await delivery.handle(event('m1', 'alice', 'bob'));
    assert.deepEqual(dir.lookups, []);
    registry.add(socket('carol', 'idc'));
    await delivery.handle(event('m2', 'alice', 'bob'));
    const dropped = await metrics.eventsDropped.get();
    assert.equal(dropped.values.find((v) => v.labels.reason === 'no_local_socket')?.value, 2);
  });

  it('routes by the event\'s cursor keys when Auth is unreachable', async () => {
    const { registry, sent, delivery, metrics } = setup(directory({}, true));
    registry.add(socket('bob', 'idb'));
    await delivery.handle(event('m1', 'alice', 'bob', { idb: encodeCursor({ userId: 'idb', seq: 1 }), ida: encodeCursor({ userId: 'ida', seq: 9 }) }));
    assert.equal(sent.length, 1);
    await delivery.handle(event('m2', 'alice', 'bob'));
    assert.equal(sent.length, 1);
    const dropped = await metrics.eventsDropped.get();
    assert.equal(dropped.values.find((v) => v.labels.reason === 'unresolved')?.value, 1);
  });

  it('routes a group event by its cursor keys alone: every local member, each with their own cursor, and no lookup', async () => {
    const dir = directory();
    const { registry, sent, delivery } = setup(dir);
    const members = Array.from({ length: 6 }, (_, i) => `id${i}`);
    for (const id of members.slice(0, 4)) {
      registry.add(socket(`${id}-phone`, id));
      registry.add(socket(`${id}-laptop`, id));
    }
    registry.add(socket('outsider', 'idx'));
    const cursors = Object.fromEntries(members.map((id, i) => [id, encodeCursor({ userId: id, seq: 10 + i })]));
    const group: NewMessageEvent = {
      type: 'new_message',
      version: 1,
      message: { id: 'g1', conversationId: 'g:0123456789abcdef01234567', from: 'id0-name', text: 'hi all', createdAt: new Date().toISOString() },
      cursors,
    };
    await delivery.handle(group);
    assert.deepEqual(dir.lookups, [], 'the event names its recipients');
    assert.equal(sent.length, 8, 'both devices of the 4 members connected here, not the outsider');
    for (const s of sent) {
      const owner = s.socket.split('-')[0]!;
      assert.equal(s.parsed.cursor, cursors[owner]);
      assert.equal(s.parsed.message.conversationId, group.message.conversationId);
      assert.equal('to' in s.parsed.message, false);
    }
  });
});
