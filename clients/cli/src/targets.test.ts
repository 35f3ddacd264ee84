import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConversationListEntry } from '@chat/client-core';
import { CliError } from './errors.ts';
import { findGroupByName, parseGroupRef, parseTarget, resolveTarget } from './targets.ts';

const group = (id: string, name: string): ConversationListEntry => ({ id, type: 'group', name, createdAt: '', createdBy: { id: '1', username: 'a' }, memberCount: 2, role: 'member', lastMessage: null, lastActivityAt: '' });
const direct: ConversationListEntry = { id: 'dm:1:2', type: 'direct', peer: { id: '2', username: 'Team' }, lastMessage: null, lastActivityAt: '' };

test('a username, a conversation id or a #group name', () => {
  assert.deepEqual(parseTarget('bob'), { kind: 'user', username: 'bob' });
  assert.deepEqual(parseTarget('g:0123'), { kind: 'conversation', id: 'g:0123' });
  assert.deepEqual(parseTarget('dm:1:2'), { kind: 'conversation', id: 'dm:1:2' });
  assert.deepEqual(parseTarget('#Team'), { kind: 'group-name', name: 'Team' });
  // The group commands take a bare name as a group's.
  assert.deepEqual(parseGroupRef('Team'), { kind: 'group-name', name: 'Team' });
  assert.deepEqual(parseGroupRef('#Team'), { kind: 'group-name', name: 'Team' });
  assert.deepEqual(parseGroupRef('g:0123'), { kind: 'conversation', id: 'g:0123' });
});

test('a name finds the one group so named: exact case first, then any case; a 1:1 peer of that name is not a group', () => {
  const list = [direct, group('g:1', 'Team'), group('g:2', 'team'), group('g:3', 'Ops')];
  assert.deepEqual(findGroupByName('Team', list), { id: 'g:1', name: 'Team' });
  assert.deepEqual(findGroupByName('OPS', list), { id: 'g:3', name: 'Ops' });
  assert.throws(() => findGroupByName('TEAM', list), (e: unknown) => e instanceof CliError && e.exitCode === 2 && /2 of your groups are named "TEAM"; say which by its id: g:1, g:2/.test(e.message));
  assert.throws(() => findGroupByName('Nope', list), (e: unknown) => e instanceof CliError && /You are in no group named "Nope"/.test(e.message));
});

test('the list is fetched only for a name', async () => {
  let fetched = 0;
  const list = async () => {
    fetched++;
    return [group('g:9', 'Team')];
  };
  assert.deepEqual(await resolveTarget(parseTarget('bob'), list), { kind: 'user', username: 'bob' });
  assert.deepEqual(await resolveTarget(parseTarget('g:9'), list), { kind: 'conversation', id: 'g:9' });
  assert.equal(fetched, 0);
  assert.deepEqual(await resolveTarget(parseTarget('#Team'), list), { kind: 'conversation', id: 'g:9', name: 'Team' });
  assert.equal(fetched, 1);
});
