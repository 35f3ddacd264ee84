/**
 * `pnpm chat <command>`: parse the command line, run the command, turn any failure into its
 * words on stderr and its exit code (errors.ts). Everything else lives in the modules it calls.
 */
import { parseCommandLine, UsageError, type CommandLine } from './args.ts';
import { RUN } from './commands/index.ts';
import { Context } from './context.ts';
import { EXIT, toCliError } from './errors.ts';
import { helpText } from './help.ts';

async function main(argv: string[]): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(err.showHelp ? `${helpText()}` : `chat: ${err.message}\nRun "pnpm chat help" for usage.\n`);
    return EXIT.usage;
  }
  const ctx = new Context(line, { env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  try {
    // Endpoint flags and variables are checked first, so a typo in one is a usage error even
    // when, say, nobody is logged in yet (help and logout use no endpoint and always work).
    if (line.command !== 'help' && line.command !== 'logout') ctx.endpoints();
    await RUN[line.command](ctx);
    return EXIT.ok;
  } catch (err) {
    const e = toCliError(err);
    ctx.note(e.exitCode === EXIT.usage ? `chat: ${e.message}\nRun "pnpm chat help" for usage.` : e.message);
    return e.exitCode;
  }
}

// A reader that goes away (`pnpm chat listen | head -3`) is a normal way to stop, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

const code = await main(process.argv.slice(2));
// Exit as soon as the output is out: idle keep-alive sockets in fetch's pool would otherwise
// hold the process for a second or more. On Linux stdout and stderr are written synchronously
// to files, pipes and terminals, so there is normally nothing to wait for.
const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
await Promise.all(pending.map((s) => new Promise((resolve) => s.once('drain', resolve))));
process.exit(code);
