/**
 * The password for register and login: `--password`, else `CHAT_PASSWORD`, else asked for
 * without echo when input is a terminal. Nothing else is guessed: with no terminal to ask
 * (a script, a pipe) a missing password is a usage error, not a hang on stdin.
 *
 * The prompt goes to stderr so that `--json` output on stdout stays clean.
 */
import { UsageError } from './args.ts';
import { CliError, EXIT } from './errors.ts';

export interface PasswordInput {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  on(event: 'data', listener: (chunk: string) => void): unknown;
  removeListener(event: 'data', listener: (chunk: string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PasswordSources {
  flag?: string;
  env: Record<string, string | undefined>;
  stdin: PasswordInput;
  stderr: { write(text: string): unknown };
  /** register asks twice, so a typo does not become the password. */
  confirm: boolean;
}

export async function obtainPassword(src: PasswordSources): Promise<string> {
  if (src.flag !== undefined) return src.flag;
  if (src.env.CHAT_PASSWORD) return src.env.CHAT_PASSWORD;
  if (!src.stdin.isTTY || !src.stdin.setRawMode) {
    throw new UsageError('no password: give --password <password>, set CHAT_PASSWORD, or run in a terminal to be asked');
  }
  const first = await readHidden('Password: ', src.stdin, src.stderr);
  if (src.confirm && (await readHidden('Repeat the password: ', src.stdin, src.stderr)) !== first) {
    throw new UsageError('the two passwords differ; nothing was changed');
  }
  return first;
}

/**
 * One line from a terminal in raw mode, so the terminal does not echo it. Raw mode also
 * turns off the terminal's own line editing, so backspace and Ctrl-U are handled here, and
 * Ctrl-C arrives as a character instead of a signal.
 */
export function readHidden(prompt: string, input: PasswordInput, output: { write(text: string): unknown }): Promise<string> {
  // Raw mode before the prompt: whatever is typed once the prompt shows must not be echoed.
  input.setRawMode!(true);
  input.setEncoding('utf8');
  output.write(prompt);
  return new Promise<string>((resolve, reject) => {
    let value = '';
    let escape = false;
    const finish = (err?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode!(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        // Arrow and function keys send ESC [ … letter; none of it belongs in a password.
        if (escape) {
          if (/[A-Za-z~]/.test(ch)) escape = false;
          continue;
        }
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new CliError(EXIT.interrupted, 'Cancelled.'));
        if (ch === '\u0004' && value === '') return finish(new CliError(EXIT.interrupted, 'Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch === '\u001b') escape = true;
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
