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

/**
 * `$NAME` and `${NAME}` in `text` replaced by `vars[NAME]`, except inside single quotes and after
 * a backslash, as both the builder and the shell leave those alone. A name not in `vars` becomes
 * empty, or is kept as it is with `keepUnknown` (a RUN's own shell variables, `$(...)`).
 */
export function expandVariables(text: string, vars: ReadonlyMap<string, string>, keepUnknown = false): string {
  let out = '';
  let single = false;
  let double = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (single) {
      if (c === "'") single = false;
      out += c;
    } else if (c === '\\' && i + 1 < text.length) {
      out += c + text[++i];
    } else if (c === "'" && !double) {
      single = true;
      out += c;
    } else if (c === '"') {
      double = !double;
      out += c;
    } else if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
      if (!m) {
        out += c;
        continue;
      }
      const name = (m[1] ?? m[2])!;
      out += vars.get(name) ?? (keepUnknown ? m[0] : '');
      i += m[0].length - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** `ARG NAME` or `ARG NAME=default`. */
function argDeclaration(ins: Instruction): { name: string; value?: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(ins.args);
  if (!m) throw new Error(`line ${ins.line}: cannot parse ARG ${ins.args}`);
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, value: m[2].replace(/^"(.*)"$/, '$1') };
}

/**
 * The Dockerfile as the builder runs it with these `--build-arg`s: in each stage, the ARGs it
 * declares (a build arg, else the ARG's default, else the global ARG's) and the ENVs it has set
 * so far (its own and those of the stage it starts FROM) are substituted into every later
 * instruction: by the builder's rules in COPY, ENV, EXPOSE, USER..., where an unset one is empty,
 * and by the shell's in RUN, whose other variables are left for its shell. A global ARG a stage
 * does not declare again is not visible in it, as in Docker. FROM lines get the global ARGs.
 */
export function withBuildArgs(df: Dockerfile, buildArgs: Readonly<Record<string, string>>): Dockerfile {
  const globals = new Map<string, string>();
  for (const ins of df.globalArgs) {
    const { name, value } = argDeclaration(ins);
    const v = buildArgs[name] ?? (value === undefined ? undefined : expandVariables(value, globals));
    if (v !== undefined) globals.set(name, v);
  }
  const stages: Stage[] = [];
  for (const stage of df.stages) {
    const vars = new Map<string, string>();
    const base = stages.find((s) => s.name !== undefined && s.name === stage.from);
    if (base) for (const [k, v] of Object.entries(envOf(base))) vars.set(k, v);
    const instructions: Instruction[] = [];
    for (const ins of stage.instructions) {
      if (ins.cmd === 'ARG') {
        const { name, value } = argDeclaration(ins);
        const v = buildArgs[name] ?? (value === undefined ? globals.get(name) : expandVariables(value, vars));
        if (v === undefined) vars.delete(name);
        else vars.set(name, v);
        instructions.push(ins);
        continue;
      }
      const args = expandVariables(ins.args, vars, ins.cmd === 'RUN');
      const expanded: Instruction = { ...ins, args };
      instructions.push(expanded);
      if (ins.cmd === 'ENV') for (const [k, v] of Object.entries(envOf({ from: '', instructions: [expanded] }))) vars.set(k, v);
    }
    const out: Stage = { from: expandVariables(stage.from, globals), instructions };
    if (stage.name) out.name = stage.name;
    stages.push(out);
  }
  return { directives: df.directives, globalArgs: df.globalArgs, stages };
}
