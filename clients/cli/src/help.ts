/**
 * The help text. The command list comes from the grammar the parser enforces, so the two
 * cannot drift apart; the rest is written for a person reading it once.
 */
import { COMMANDS, HISTORY_LIMIT, usageOf } from './args.ts';
import { DEFAULT_ENDPOINTS } from './endpoints.ts';

export function helpText(): string {
  const usages = COMMANDS.map((c) => usageOf(c).replace(/^pnpm chat /, ''));
  const width = Math.max(...usages.map((u) => u.length)) + 2;
  const commands = COMMANDS.map((c, i) => `  ${usages[i]!.padEnd(width)}${c.summary}`).join('\n');
  return `chat: the terminal client for chat-k8s

Usage: pnpm chat <command> [arguments] [options]

Commands:
${commands}

Options:
  --password <password>  register, login: the password. Without it, CHAT_PASSWORD is used, or
                         you are asked for it (not echoed) when input is a terminal. A password
                         given on the command line is visible to other users of this machine.
  --limit <n>            history, conversations: how many (${HISTORY_LIMIT.min} to ${HISTORY_LIMIT.max}; the server's default is 50)
  --before <position>    history, conversations: the page before this position (each prints
                         the command for the next page on stderr)
  --keep-unread          history: do not mark the conversation read (it is, when the newest
                         page is shown)
  --json                 machine output: one JSON object per line (use pnpm --silent chat …
                         so that pnpm's own banner stays off stdout)
  --auth <url>           Auth service      (or CHAT_AUTH_URL; default ${DEFAULT_ENDPOINTS.authUrl})
  --chat <url>           Chat service      (or CHAT_CHAT_URL; default ${DEFAULT_ENDPOINTS.chatUrl})
  --gateway <url>        Gateway WebSocket (or CHAT_GATEWAY_URL; default ${DEFAULT_ENDPOINTS.gatewayUrl})
  -h, --help             this help

Naming a conversation (<to>, <with>): a username for a 1:1; a conversation id (g:… or dm:…,
as conversations --json shows them); or '#name' for your group of that name (quoted: in a shell
an unquoted # starts a comment). The group commands take an id or a name, # optional. Who may
do what in a group: anyone sends, reads and leaves; the owner and admins rename, add and remove
(but not the owner); only the owner changes roles. When the owner leaves, the longest-standing
admin (else member) becomes the owner.

login remembers the endpoints it used; later commands use them unless told otherwise. The
session and listen's position are kept in $CHAT_CONFIG_DIR (default $XDG_CONFIG_HOME/chat-k8s,
or ~/.config/chat-k8s), readable only by you. Nothing prints the token.

listen prints each message as it arrives, group messages and membership changes included
(status changes go to stderr, and so do, one short line each, who starts typing, who read a
conversation and who comes online or goes offline). Stopped, even killed, and started again, it first prints what
arrived in between, then goes on live: nothing is lost or shown twice (only a kill at the very
instant a line is printed can show that line again). The first listen starts from the moment
it is started.

Unread counts and read marks are Chat's, shared by all your devices: conversations shows how
many messages are unread per conversation and "✓ seen" where a 1:1 peer has read your last
message; history (its newest page) and read mark a conversation read. presence answers only
for people you share a conversation with; anyone else is "unknown".

Exit codes:
  0  done
  1  usage error: unknown command or option, missing argument
  2  refused: the server said no (wrong password, unknown user, text too long …),
     or you need to log in (again)
  3  unreachable: a server did not answer
  4  unexpected: anything else (an answer this client does not understand, a file it
     cannot write); the message says what

Examples:
  pnpm chat register alice
  pnpm chat login alice
  pnpm chat send bob "see you at 12:30"
  pnpm chat history bob --limit 20
  pnpm chat conversations
  pnpm chat read bob
  pnpm chat presence bob carol
  pnpm chat group create Team bob carol
  pnpm chat send '#Team' "standup in 5"
  pnpm chat history '#Team'
  pnpm chat group role Team bob admin
  pnpm chat listen
  pnpm --silent chat listen --json
  CHAT_CHAT_URL=http://chat.example:5002 pnpm chat conversations
`;
}
