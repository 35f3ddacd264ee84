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

export type CommandName = 'register' | 'login' | 'send' | 'history' | 'conversations' | 'listen' | 'logout' | 'help';

export const COMMANDS: readonly CommandGrammar[] = [
  { name: 'register', args: '<username>', summary: 'Create an account', minArgs: 1, maxArgs: 1, options: ['password'] },
  { name: 'login', args: '<username>', summary: 'Log in and keep the session on this machine', minArgs: 1, maxArgs: 1, options: ['password'] },
  { name: 'send', args: '<to> <text…>', summary: 'Send a message (the words after <to> are the text)', minArgs: 2, maxArgs: Infinity, options: [] },
  { name: 'history', args: '<with>', summary: 'Show a conversation, oldest message at the top', minArgs: 1, maxArgs: 1, options: ['limit', 'before'] },
  { name: 'conversations', args: '', summary: 'List your conversations, most recent first', minArgs: 0, maxArgs: 0, options: [] },
  { name: 'listen', args: '', summary: 'Print messages as they arrive; a restart goes on where the last run stopped', minArgs: 0, maxArgs: 0, options: [] },
  { name: 'logout', args: '', summary: 'Forget the stored session', minArgs: 0, maxArgs: 0, options: [] },
  { name: 'help', args: '', summary: 'Show this help', minArgs: 0, maxArgs: 1, options: [] },
];

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
  const [name, ...args] = positionals;
  if (name === undefined) throw new UsageError('which command?', true);
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
  if (grammar.name === 'help' && args[0] !== undefined && !COMMANDS.some((c) => c.name === args[0])) {
    throw new UsageError(`unknown command "${args[0]}"`);
  }

  const line: CommandLine = { command: grammar.name, args, json: given.has('json') };
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
