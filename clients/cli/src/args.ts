/**
 * The command line: which command, its arguments and options. Pure (argv in, a value or a
 * `UsageError` out) so every rule is unit-tested without starting a process.
 *
 * Options may stand anywhere (`pnpm chat --json history bob` and `pnpm chat history bob --json`
 * are the same), and `--` ends them, so text that starts with a dash can still be sent.
 */
import { parseArgs } from 'node:util';

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  auth: { type: 'string' },
  chat: { type: 'string' },
  gateway: { type: 'string' },
  password: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  'keep-unread': { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Accepted by every command. */
const GLOBAL_OPTIONS: readonly OptionName[] = ['json', 'help', 'auth', 'chat', 'gateway'];

export interface CommandGrammar {
  name: CommandName;
  /** The arguments as the help shows them. */
  args: string;
  summary: string;
  minArgs: number;
  maxArgs: number;
  /** Options besides the global ones. */
  options: readonly OptionName[];
}

/** `group <action>` commands are named with both words, so each has its own grammar and help line. */
export type GroupCommandName = 'group create' | 'group show' | 'group rename' | 'group add' | 'group remove' | 'group role' | 'group leave';

export type CommandName = 'register' | 'login' | 'send' | 'history' | 'conversations' | 'read' | 'receipts' | 'presence' | 'listen' | 'logout' | 'help' | GroupCommandName;

export const COMMANDS: readonly CommandGrammar[] = [
  { name: 'register', args: '<username>', summary: 'Create an account', minArgs: 1, maxArgs: 1, options: ['password'] },
  { name: 'login', args: '<username>', summary: 'Log in and keep the session on this machine', minArgs: 1, maxArgs: 1, options: ['password'] },
  { name: 'send', args: '<to> <text…>', summary: 'Send a message to a user or a group (the words after <to> are the text)', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'history', args: '<with>', summary: 'Show a conversation with a user or a group, oldest message at the top (marks it read)', minArgs: 1, maxArgs: 1, options: ['limit', 'before', 'keep-unread'] },
  { name: 'conversations', args: '', summary: 'List your conversations and groups, most recent first, with unread counts', minArgs: 0, maxArgs: 0, options: ['limit', 'before'] },
  { name: 'read', args: '<with>', summary: 'Mark a conversation read up to its newest message', minArgs: 1, maxArgs: 1, options: [] },
  { name: 'receipts', args: '<with>', summary: 'Show how far each member of a conversation has read', minArgs: 1, maxArgs: 1, options: [] },
  { name: 'presence', args: '<user…>', summary: 'Show whether these users are online, or when they were last seen', minArgs: 1, maxArgs: 100, options: [] },
  { name: 'listen', args: '', summary: 'Print messages as they arrive (typing, reads and presence on stderr); a restart goes on where the last run stopped', minArgs: 0, maxArgs: 0, options: [] },
  { name: 'group create', args: '<name> <member…>', summary: 'Create a group with these users; you are its owner', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'group show', args: '<group>', summary: 'Show a group and its members', minArgs: 1, maxArgs: 1, options: [] },
  { name: 'group rename', args: '<group> <name…>', summary: 'Rename a group (owner or admin)', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'group add', args: '<group> <user…>', summary: 'Add users to a group (owner or admin)', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'group remove', args: '<group> <user…>', summary: 'Remove users from a group (owner or admin)', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'group role', args: '<group> <user> admin|member', summary: "Change a member's role (owner only)", minArgs: 3, maxArgs: 3, options: [] },
  { name: 'group leave', args: '<group>', summary: 'Leave a group', minArgs: 1, maxArgs: 1, options: [] },
  { name: 'logout', args: '', summary: 'Forget the stored session', minArgs: 0, maxArgs: 0, options: [] },
  { name: 'help', args: '', summary: 'Show this help', minArgs: 0, maxArgs: 2, options: [] },
];

const GROUP_ACTIONS = COMMANDS.filter((c) => c.name.startsWith('group ')).map((c) => c.name.slice('group '.length));

export const HISTORY_LIMIT = { min: 1, max: 100 } as const;

export interface CommandLine {
  command: CommandName;
  /** The command's arguments (the command name itself removed). */
  args: string[];
  json: boolean;
  /** Endpoint flags as given (validated later, together with the environment). */
  auth?: string;
  chat?: string;
  gateway?: string;
  password?: string;
  limit?: number;
  before?: string;
  /** history: leave the conversation unread. */
  keepUnread?: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** `showHelp`: print the whole help, not just the one-line hint (nothing was asked for at all). */
  constructor(
    message: string,
    readonly showHelp = false,
  ) {
    super(message);
  }
}

export function grammarOf(name: CommandName): CommandGrammar {
  return COMMANDS.find((c) => c.name === name)!;
}

export function usageOf(c: CommandGrammar): string {
  return `pnpm chat ${c.name}${c.args ? ` ${c.args}` : ''}`;
}

const ROLES = ['admin', 'member'];

/** The command's name (one word, or `group` and its action) and the arguments after it. */
function commandWords(positionals: readonly string[]): [string, string[]] {
  const [first, ...rest] = positionals as [string, ...string[]];
  if (first !== 'group') return [first, rest];
  const [action, ...args] = rest;
  if (action === undefined) throw new UsageError(`which group command? One of: ${GROUP_ACTIONS.join(', ')}`);
  return [`group ${action}`, args];
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  // strict: false so unknown options come back as tokens and get this file's wording
  // instead of parseArgs' generic one; every token is checked below.
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const given = new Map<OptionName, string | true>();
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, t.name)) {
      const hint = /^-\d/.test(t.rawName) ? ` (to send text that starts with "-", put -- before it: pnpm chat send bob -- ${t.rawName})` : '';
      throw new UsageError(`unknown option ${t.rawName}${hint}`);
    }
    const name = t.name as OptionName;
    if (OPTIONS[name].type === 'boolean') {
      if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
      given.set(name, true);
      continue;
    }
    // `--password --json` would otherwise take "--json" as the password: almost certainly a
    // forgotten value, so it is refused (as parseArgs' strict mode does); `--password=-x` is explicit.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) {
      throw new UsageError(`${t.rawName} needs a value${t.value !== undefined ? ` (write ${t.rawName}=${t.value} if that is the value)` : ''}`);
    }
    given.set(name, t.value);
  }

  if (given.has('help')) return { command: 'help', args: [], json: given.has('json') };
  if (positionals[0] === undefined) throw new UsageError('which command?', true);
  const [name, args] = commandWords(positionals);
  const grammar = COMMANDS.find((c) => c.name === name);
  if (!grammar) throw new UsageError(`unknown command "${name}"`);

  for (const option of given.keys()) {
    if (!GLOBAL_OPTIONS.includes(option) && !grammar.options.includes(option)) {
      throw new UsageError(`--${option} is not an option of ${grammar.name}`);
    }
  }
  if (args.length < grammar.minArgs || args.length > grammar.maxArgs) {
    const what = args.length < grammar.minArgs ? 'missing arguments' : 'too many arguments';
    throw new UsageError(`${what}; usage: ${usageOf(grammar)}`);
  }
  if (grammar.name === 'help' && args[0] !== undefined && args.join(' ') !== 'group' && !COMMANDS.some((c) => c.name === args.join(' '))) {
    throw new UsageError(`unknown command "${args.join(' ')}"`);
  }
  if (grammar.name === 'group role' && !ROLES.includes(args[2]!)) throw new UsageError(`the role is admin or member, not "${args[2]}"`);

  const line: CommandLine = { command: grammar.name, args, json: given.has('json') };
  if (given.has('keep-unread')) line.keepUnread = true;
  for (const key of ['auth', 'chat', 'gateway', 'password', 'before'] as const) {
    const v = given.get(key);
    if (typeof v === 'string') line[key] = v;
  }
  const limit = given.get('limit');
  if (typeof limit === 'string') {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= HISTORY_LIMIT.min && n <= HISTORY_LIMIT.max)) {
      throw new UsageError(`--limit must be a whole number from ${HISTORY_LIMIT.min} to ${HISTORY_LIMIT.max}`);
    }
    line.limit = n;
  }
  if (line.before === '') throw new UsageError('--before needs a value');
  return line;
}
