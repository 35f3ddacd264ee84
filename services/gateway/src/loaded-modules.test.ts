/**
 * The gateway's module graph holds neither Koa nor the MongoDB driver: it imports only the
 * @chat/common entry points it uses (contracts, config, jwt, user-directory, presence, signal-bus,
 * event-consumer), never koa or mongo,
 * whose packages its image does not install (tools/k8s/image-dependencies.test.ts checks the
 * image's side). The gateway's own index.ts is started with an invalid PORT: every static import
 * is loaded before the configuration is read, then it exits 1 on the ConfigError. A resolve hook
 * records every module URL on the way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GATEWAY = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Packages only Auth and Chat install (peer dependencies of @chat/common's koa and mongo entries). */
const FORBIDDEN = ['koa', '@koa/router', 'koa-bodyparser', 'mongodb'];

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(process.env.LOADED_MODULES_FILE, resolved.url + '\\n');
  return resolved;
}
`;

function packageOf(url: string): string | undefined {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/[^]*$/.exec(url.replace(/^.*\/node_modules\/\.pnpm\/[^/]+/, ''));
  return m?.[1];
}

describe('the gateway module graph', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-modules-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'loaded.txt');
  writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
  writeFileSync(out, '');

  const run = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', '--import', pathToFileURL(join(dir, 'register.mjs')).href, 'src/index.ts'], {
    cwd: GATEWAY,
    env: { ...process.env, LOADED_MODULES_FILE: out, PORT: 'not-a-port', LOG_LEVEL: 'fatal' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const urls = readFileSync(out, 'utf8').split('\n').filter(Boolean);
  const packages = new Set(urls.map(packageOf).filter((p): p is string => p !== undefined));

  it('loads the whole graph of src/index.ts, then stops at the configuration', () => {
    assert.equal(run.status, 1, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /PORT/, 'the fatal line names PORT');
    // The recording works: the gateway's own packages (uWebSockets.js under its real name) and the
    // entry points it uses are there.
    for (const p of ['@trufflesuite/uws-js-unofficial', 'amqplib', 'jose', 'lru-cache', 'pino', 'prom-client']) assert.ok(packages.has(p), `${p} was loaded`);
    for (const entry of ['contracts', 'config', 'jwt', 'user-directory', 'presence-table', 'signal-bus', 'event-consumer']) {
      assert.ok(urls.some((u) => u.endsWith(`/services/common/src/${entry}.ts`)), `@chat/common/${entry} was loaded`);
    }
  });

  it('loads neither Koa nor the MongoDB driver, nor the entry points that need them', () => {
    assert.deepEqual(FORBIDDEN.filter((p) => packages.has(p)), []);
    assert.deepEqual(urls.filter((u) => /\/services\/common\/src\/(koa|mongo)[^/]*\.ts$/.test(u)), []);
  });
});
