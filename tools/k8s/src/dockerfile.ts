/** A small Dockerfile parser: enough to check the rules our images must follow. */
import { readFileSync } from 'node:fs';

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  cmd: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** Parser directives (`# syntax=...`). */
  directives: Record<string, string>;
  /** ARGs declared before the first FROM (usable in FROM lines). */
  globalArgs: Instruction[];
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const directives: Record<string, string> = {};
  const lines = text.split('\n');
  let i = 0;
  // parser directives: leading `# key=value` comments
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i]!);
    if (!m) break;
    directives[m[1]!.toLowerCase()] = m[2]!;
  }
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  for (; i < lines.length; i++) {
    const raw = lines[i]!;
    if (buf === '' && (/^\s*#/.test(raw) || raw.trim() === '')) continue;
    if (buf !== '' && /^\s*#/.test(raw)) continue; // comment inside a continuation
    if (buf === '') start = i + 1;
    const cont = /\\\s*$/.test(raw);
    buf += (buf ? ' ' : '') + raw.replace(/\\\s*$/, '').trim();
    if (!cont) {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(buf)!;
      instructions.push({ cmd: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
      buf = '';
    }
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot parse FROM ${ins.args}`);
      const stage: Stage = { from: m[1]!, instructions: [] };
      if (m[2]) stage.name = m[2];
      stages.push(stage);
    } else if (stages.length === 0) {
      if (ins.cmd !== 'ARG') throw new Error(`line ${ins.line}: ${ins.cmd} before the first FROM`);
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { directives, globalArgs, stages };
}

export function readDockerfile(path: string): Dockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** Value of `ARG NAME=value` among the given instructions. */
export function argDefault(instructions: Instruction[], name: string): string | undefined {
  for (const ins of instructions) {
    if (ins.cmd !== 'ARG') continue;
    const m = new RegExp(`^${name}=(.*)$`).exec(ins.args);
    if (m) return m[1]!.replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** A FROM reference with ${ARG} defaults substituted. */
export function resolveFrom(df: Dockerfile, from: string): string {
  return from.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => argDefault(df.globalArgs, name) ?? `\${${name}}`);
}

/** ENV key=value pairs of a stage (both `ENV k=v k2=v2` and legacy `ENV k v`). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const ins of stage.instructions) {
    if (ins.cmd !== 'ENV') continue;
    if (!ins.args.includes('=')) {
      const [k, ...v] = ins.args.split(/\s+/);
      env[k!] = v.join(' ');
      continue;
    }
    const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g;
    for (let m = re.exec(ins.args); m; m = re.exec(ins.args)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}
