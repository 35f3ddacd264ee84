import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupNameCache } from './group-names.ts';

test('names from the list at start, from created/renamed messages, and for a stranger group from one background lookup', async () => {
  const looked: string[] = [];
  const cache = new GroupNameCache(
    {
      allConversations: async () => ({ conversations: [{ id: 'g:1', type: 'group', name: 'Team', createdAt: '', createdBy: { id: '1', username: 'a' }, memberCount: 2, role: 'member', lastMessage: null, lastActivityAt: '' }], complete: true }),
      group: async (_token, id) => {
        looked.push(id);
        return { id, type: 'group', name: 'Added', createdAt: '', createdBy: { id: '1', username: 'a' }, members: [] };
      },
    },
    'tok',
  );
  await cache.load();
  assert.equal(cache.lookup('g:1'), 'Team');
  cache.learn({ id: 'm', conversationId: 'g:1', from: 'a', text: '', createdAt: '', kind: 'system', event: 'renamed', name: 'Team 2' });
  assert.equal(cache.lookup('g:1'), 'Team 2');
  assert.equal(cache.lookup('g:2'), undefined, 'not known yet: the line shows the id');
  assert.equal(cache.lookup('g:2'), undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.lookup('g:2'), 'Added');
  assert.deepEqual(looked, ['g:2'], 'asked once');
});

test('a list that cannot be read leaves the names to the messages', async () => {
  const cache = new GroupNameCache({ allConversations: async () => Promise.reject(new Error('down')), group: async () => Promise.reject(new Error('down')) }, 'tok');
  await cache.load();
  assert.equal(cache.lookup('g:1'), undefined);
});
