import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, parseCommandLine, UsageError } from './args.ts';

const usage = (argv: string[], message: RegExp) =>
  assert.throws(
    () => parseCommandLine(argv),
    (err: unknown) => err instanceof UsageError && message.test(err.message),
  );

test('a command with its arguments; options may stand before, between or after them', () => {
  assert.deepEqual(parseCommandLine(['history', 'bob']), { command: 'history', args: ['bob'], json: false });
  for (const argv of [
    ['--json', 'history', 'bob', '--limit', '5'],
    ['history', '--limit=5', 'bob', '--json'],
    ['history', 'bob', '--json', '--limit', '5'],
  ]) {
    assert.deepEqual(parseCommandLine(argv), { command: 'history', args: ['bob'], json: true, limit: 5 }, argv.join(' '));
  }
  assert.deepEqual(parseCommandLine(['history', 'bob', '--before', 'YzE6eDo5']), { command: 'history', args: ['bob'], json: false, before: 'YzE6eDo5' });
});

test('send keeps every word after the recipient; -- lets text start with a dash', () => {
  assert.deepEqual(parseCommandLine(['send', 'bob', 'hello', 'there']).args, ['bob', 'hello', 'there']);
  assert.deepEqual(parseCommandLine(['send', 'bob', '--', '-5', 'degrees', '--json']).args, ['bob', '-5', 'degrees', '--json']);
  usage(['send', 'bob', '-5'], /unknown option -5 \(to send text that starts with "-", put -- before it/);
});

test('endpoints and the password are taken as given (validated later)', () => {
  const line = parseCommandLine(['login', 'alice', '--password', 'pw with spaces', '--auth', 'http://a:1', '--chat=http://c:2', '--gateway', 'ws://g:3']);
  assert.deepEqual(line, { command: 'login', args: ['alice'], json: false, password: 'pw with spaces', auth: 'http://a:1', chat: 'http://c:2', gateway: 'ws://g:3' });
  // A value that looks like an option is refused unless written with "=".
  usage(['login', 'alice', '--password', '--json'], /--password needs a value \(write --password=--json if that is the value\)/);
  assert.equal(parseCommandLine(['login', 'alice', '--password=--json']).password, '--json');
});

test('help: the command, --help or -h anywhere', () => {
  for (const argv of [['help'], ['--help'], ['-h'], ['send', '--help'], ['help', 'send']]) {
    assert.equal(parseCommandLine(argv).command, 'help', argv.join(' '));
  }
});

test('usage errors name what is wrong', () => {
  usage([], /which command/);
  assert.equal((() => { try { parseCommandLine([]); } catch (e) { return (e as UsageError).showHelp; } })(), true);
  usage(['sned', 'bob', 'hi'], /unknown command "sned"/);
  usage(['help', 'sned'], /unknown command "sned"/);
  usage(['send', 'bob'], /missing arguments; usage: pnpm chat send <to> <text…>/);
  usage(['history'], /missing arguments; usage: pnpm chat history <with>/);
  usage(['history', 'bob', 'carol'], /too many arguments/);
  usage(['listen', 'now'], /too many arguments; usage: pnpm chat listen$/);
  usage(['send', 'bob', 'hi', '--limit', '3'], /--limit is not an option of send/);
  usage(['history', 'bob', '--password', 'x'], /--password is not an option of history/);
  usage(['listen', '--verbose'], /unknown option --verbose/);
  usage(['listen', '--json=yes'], /--json takes no value/);
  usage(['history', 'bob', '--limit'], /--limit needs a value/);
  usage(['history', 'bob', '--before='], /--before needs a value/);
});

test('--limit is a whole number within what Chat serves', () => {
  assert.equal(parseCommandLine(['history', 'bob', '--limit', '1']).limit, 1);
  assert.equal(parseCommandLine(['history', 'bob', '--limit', '100']).limit, 100);
  for (const bad of ['0', '101', '-1', '2.5', 'ten', '1e2', '']) {
    usage(['history', 'bob', `--limit=${bad}`], /--limit must be a whole number from 1 to 100/);
  }
});

test('every command in the grammar has a summary for the help', () => {
  for (const c of COMMANDS) assert.ok(c.summary.length > 0, c.name);
});

test('group commands are two words; each has its own arguments', () => {
  assert.deepEqual(parseCommandLine(['group', 'create', 'Team', 'bob', 'carol']), { command: 'group create', args: ['Team', 'bob', 'carol'], json: false });
  assert.deepEqual(parseCommandLine(['--json', 'group', 'role', 'g:1', 'bob', 'admin']), { command: 'group role', args: ['g:1', 'bob', 'admin'], json: true });
  assert.deepEqual(parseCommandLine(['group', 'leave', '#Team']).args, ['#Team']);
  usage(['group'], /which group command\? One of: create, show, rename, add, remove, role, leave/);
  usage(['group', 'delete', 'x'], /unknown command "group delete"/);
  usage(['group', 'create', 'Team'], /missing arguments; usage: pnpm chat group create <name> <member…>/);
  usage(['group', 'role', 'Team', 'bob', 'owner'], /the role is admin or member, not "owner"/);
  usage(['group', 'show', 'Team', '--limit', '3'], /--limit is not an option of group show/);
  assert.equal(parseCommandLine(['help', 'group', 'add']).command, 'help');
  usage(['help', 'group', 'delete'], /unknown command "group delete"/);
});

test('conversations pages like history', () => {
  assert.deepEqual(parseCommandLine(['conversations', '--limit', '10', '--before', 'p1']), { command: 'conversations', args: [], json: false, limit: 10, before: 'p1' });
});

test('read, receipts and presence; history --keep-unread', () => {
  assert.deepEqual(parseCommandLine(['read', '#Team']), { command: 'read', args: ['#Team'], json: false });
  assert.deepEqual(parseCommandLine(['receipts', 'bob', '--json']), { command: 'receipts', args: ['bob'], json: true });
  assert.deepEqual(parseCommandLine(['presence', 'bob', 'carol']).args, ['bob', 'carol']);
  usage(['presence'], /missing arguments; usage: pnpm chat presence <user…>/);
  usage(['read', 'bob', 'carol'], /too many arguments/);
  assert.equal(parseCommandLine(['history', 'bob', '--keep-unread']).keepUnread, true);
  assert.equal(parseCommandLine(['history', 'bob']).keepUnread, undefined);
  usage(['read', 'bob', '--keep-unread'], /--keep-unread is not an option of read/);
  usage(['history', 'bob', '--keep-unread=yes'], /--keep-unread takes no value/);
});
