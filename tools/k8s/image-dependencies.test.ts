/**
 * What each service image installs: services/Dockerfile's `pnpm deploy` step, as written there,
 * run into a temporary folder (packages from the local store), then its node_modules read. The
 * legacy deploy resolves the workspace packages' dependencies again, so it reads package
 * metadata: from pnpm's cache when it has them, from the registry on a machine whose cache is
 * cold (`--offline` failed there with ERR_PNPM_NO_OFFLINE_META: `pnpm install` from the lockfile
 * fetches none). The gateway's has neither Koa nor the MongoDB driver; Auth's and Chat's have both,
 * where the deployed @chat/common finds them (they are its optional peer dependencies, installed
 * by the services that import its koa and mongo entry points). The gateway's module graph is
 * checked in services/gateway/src/loaded-modules.test.ts. The Dockerfile's uWebSockets.js step
 * then runs on each tree with sh (this node is the image's major, so the binary it keeps is the image's).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, realpathSync, rmSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readDockerfile } from './src/dockerfile.ts';
import { BIN, ROOT, SERVICES, SERVICES_DOCKERFILE, serviceBuildArgs, type ServiceName } from './src/paths.ts';

/** The peer dependencies of @chat/common's koa and mongo entry points. */
const KOA_AND_MONGO = ['koa', '@koa/router', 'koa-bodyparser', 'mongodb'];
/** @chat/common's own dependencies, which every service gets. */
const COMMON_DEPENDENCIES = ['jose', 'lru-cache', 'pino', 'prom-client'];
const USES_KOA_AND_MONGO: Record<ServiceName, boolean> = { auth: true, chat: true, gateway: false };

const work = mkdtempSync(join(tmpdir(), 'image-deps-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The packages of a deployed tree: node_modules/.pnpm/<name>@<version>[_peers] folders. */
function installedPackages(out: string): Set<string> {
  return new Set(readdirSync(join(out, 'node_modules', '.pnpm')).filter((d) => d.includes('@', 1)).map((d) => d.slice(0, d.indexOf('@', 1)).replace('+', '/')));
}

/** Whether `name` resolves from the deployed @chat/common, as its compiled entry points would import it. */
function resolvesFromCommon(out: string, name: string): boolean {
  const common = realpathSync(join(out, 'node_modules', '@chat', 'common'));
  try {
    createRequire(join(common, 'package.json')).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The arguments of the build stage's first RUN that `matches`, as written in the Dockerfile. */
const buildRuns = readDockerfile(join(ROOT, SERVICES_DOCKERFILE)).stages.find((s) => s.name === 'build')?.instructions.filter((i) => i.cmd === 'RUN') ?? [];
const buildRun = (matches: (args: string) => boolean) => buildRuns.find((i) => matches(i.args))?.args;

/** The build stage's RUN that deploys, as written: the pnpm command, before the store option's cache mount matters. */
const deployRun = buildRun((args) => / deploy --legacy \/out$/.test(args));

/** Runs the Dockerfile's deploy of `svc` into `out`, with this machine's store, offline where pnpm's cache allows. */
function runDeploy(svc: ServiceName, out: string) {
  assert.ok(deployRun, `${SERVICES_DOCKERFILE} has a RUN ending in "deploy --legacy /out" in its build stage`);
  const command = deployRun
    .slice(deployRun.indexOf('pnpm '))
    .replace(' --store-dir /pnpm/store', ' --prefer-offline')
    .replace(/\/out$/, out);
  assert.match(command, /^pnpm .* --prefer-offline .*deploy --legacy /, command);
  return spawnSync('sh', ['-c', command], { cwd: ROOT, env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...serviceBuildArgs(svc) }, encoding: 'utf8', timeout: 120_000 });
}

/** The build stage's RUN that prunes the uWebSockets.js binaries, as written (the shell expands its build args). */
const pruneUws = buildRun((args) => args.includes('uws-js-unofficial'));
const KEEP = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

/** Runs the pruning step on a deployed tree at `out` instead of /out, with the service's build args in its environment. */
function runPruneUws(svc: ServiceName, out: string) {
  assert.ok(pruneUws, `${SERVICES_DOCKERFILE} has a RUN for uws-js-unofficial in its build stage`);
  return spawnSync('sh', ['-c', pruneUws.replaceAll('/out/', `${out}/`)], { env: { PATH: process.env.PATH, ...serviceBuildArgs(svc) }, encoding: 'utf8' });
}

/** The uWebSockets.js binaries of a deployed tree. */
function uwsBinaries(out: string): string[] {
  const found = spawnSync('find', [join(out, 'node_modules'), '-path', '*uws-js-unofficial/binaries/*.node'], { encoding: 'utf8' });
  assert.equal(found.status, 0, found.stderr);
  return found.stdout.split('\n').filter(Boolean);
}

for (const svc of SERVICES) {
  describe(`the ${svc} image's production dependencies (pnpm deploy --prod)`, () => {
    const out = join(work, svc);
    const deploy = runDeploy(svc, out);

    it('deploys', () => {
      assert.equal(deploy.status, 0, `${deploy.error ?? ''}${deploy.stdout}${deploy.stderr}`);
      assert.ok(resolvesFromCommon(out, 'jose'), '@chat/common is deployed with its dependencies');
    });

    it(USES_KOA_AND_MONGO[svc] ? 'has Koa and the MongoDB driver where @chat/common finds them' : 'has neither Koa nor the MongoDB driver', () => {
      const packages = installedPackages(out);
      for (const name of COMMON_DEPENDENCIES) assert.ok(resolvesFromCommon(out, name), `${name} resolves from @chat/common`);
      if (USES_KOA_AND_MONGO[svc]) {
        assert.deepEqual(KOA_AND_MONGO.filter((name) => !resolvesFromCommon(out, name)), [], 'peers of @chat/common that do not resolve');
      } else {
        assert.deepEqual(KOA_AND_MONGO.filter((name) => packages.has(name)), [], 'installed');
        assert.deepEqual(KOA_AND_MONGO.filter((name) => resolvesFromCommon(out, name)), [], 'resolvable from @chat/common');
      }
    });

    it(svc === 'gateway' ? 'keeps only the uWebSockets.js binary this node loads, and the build fails without it' : 'has no uWebSockets.js, so the pruning step leaves the tree alone', () => {
      const before = uwsBinaries(out);
      const res = runPruneUws(svc, out);
      assert.equal(res.status, 0, res.stdout + res.stderr);
      if (svc !== 'gateway') {
        assert.deepEqual(before, []);
        return;
      }
      assert.ok(before.length > 1, `the package ships a binary per platform and ABI: ${before.length}`);
      const after = uwsBinaries(out);
      assert.deepEqual(after.map((f) => f.slice(f.lastIndexOf('/') + 1)), [KEEP]);
      unlinkSync(after[0]!);
      const missing = runPruneUws(svc, out);
      assert.notEqual(missing.status, 0, 'the gateway built without its binary');
      assert.match(missing.stderr, new RegExp(`no uWebSockets\\.js binary ${KEEP.replace(/\./g, '\\.')}`));
    });
  });
}
