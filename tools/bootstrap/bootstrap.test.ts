/**
 * The first-run steps, run the way a new user's machine meets them: with what they install
 * missing or broken. `make test` passing on a machine that already has pnpm proves nothing
 * about one that does not, so each case builds that machine state in a scratch directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1] as string;
const scratch = mkdtempSync(join(tmpdir(), 'chat-bootstrap-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A PATH that holds node, npm and the basic tools the scripts call, and nothing else: on a
 * merged-/usr system /bin is /usr/bin, where Corepack puts its shim, so the machine's own
 * directories cannot be on it.
 */
const toolDir = join(scratch, 'machine-bin');
mkdirSync(toolDir);
for (const tool of ['bash', 'sh', 'env', 'mkdir', 'rm', 'mv', 'ln', 'cat', 'cut', 'cksum', 'grep', 'mktemp', 'dirname', 'uname', 'sed', 'head', 'ls', 'chmod', 'cp', 'python3']) {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (found) symlinkSync(realpathSync(found), join(toolDir, tool));
}
symlinkSync(process.execPath, join(toolDir, 'node'));
symlinkSync(realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim()), join(toolDir, 'npm'));

function basePath(extraFirst: string[] = []): string {
  return [...extraFirst, toolDir].join(':');
}

/** What Corepack leaves behind when `corepack prepare` failed: a pnpm that crashes when run. */
function brokenShimDir(): string {
  const dir = join(scratch, 'corepack-shim');
  mkdirSync(dir, { recursive: true });
  const shim = join(dir, 'pnpm');
  writeFileSync(shim, '#!/bin/sh\necho "Error: Corepack cannot download the latest stable version of pnpm" >&2\nexit 1\n');
  chmodSync(shim, 0o755);
  return dir;
}

function runPnpmBootstrap(name: string, path: string) {
  const bin = join(scratch, name, 'bin');
  const cache = join(scratch, name, 'cache');
  const started = Date.now();
  const r = spawnSync('bash', [join(root, 'tools', 'bootstrap', 'pnpm.sh')], {
    env: { ...process.env, PATH: path, CHAT_BOOTSTRAP_BIN: bin, CHAT_BOOTSTRAP_CACHE: cache },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { ...r, bin, ms: Date.now() - started };
}

function versionAt(bin: string, path: string): string {
  const r = spawnSync(join(bin, 'pnpm'), ['--version'], { env: { PATH: path }, encoding: 'utf8' });
  return r.stdout.trim();
}

test('a machine with no pnpm at all gets the pinned pnpm', () => {
  const path = basePath();
  assert.notEqual(spawnSync('sh', ['-c', 'command -v pnpm'], { env: { PATH: path } }).status, 0, 'the scratch PATH has no pnpm');
  const r = runPnpmBootstrap('none', path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(versionAt(r.bin, path), pinned);
});

test('a machine where Corepack left a crashing pnpm shim first on PATH recovers, and the shim is left alone', () => {
  const shimDir = brokenShimDir();
  const path = basePath([shimDir]);
  assert.notEqual(spawnSync('pnpm', ['--version'], { env: { PATH: path } }).status, 0, 'the shim crashes, as Corepack\'s does');
  const r = runPnpmBootstrap('shim', path);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EEXIST/);
  // make puts tools/bin before the machine's PATH: the bootstrapped pnpm wins over the shim.
  assert.equal(versionAt(r.bin, `${r.bin}:${path}`), pinned);
  assert.match(readFileSync(join(shimDir, 'pnpm'), 'utf8'), /Corepack/);
});

test('a second run with pnpm in place is a no-op', () => {
  const path = basePath();
  const r = runPnpmBootstrap('none', path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing to install, nothing said');
  assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
});

test('a wrong pnpm version in the target is replaced by the pinned one', () => {
  const bin = join(scratch, 'wrong', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'pnpm'), '#!/bin/sh\necho 8.0.0\n');
  chmodSync(join(bin, 'pnpm'), 0o755);
  const r = runPnpmBootstrap('wrong', basePath());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(versionAt(bin, basePath()), pinned);
});

test('without Go, the chart tools say exactly what is missing instead of failing obscurely', () => {
  // FORCE=1 skips the "already built" shortcut; with no go on PATH the script must stop at once.
  const r = spawnSync('bash', [join(root, 'tools', 'k8s', 'install-tools.sh')], { env: { ...process.env, PATH: basePath(), FORCE: '1' }, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /go is required \(Go >= 1\.26\)/);
});

function runSchemathesisBootstrap(env: Record<string, string>) {
  const started = Date.now();
  const r = spawnSync('bash', [join(root, 'tools', 'bootstrap', 'schemathesis.sh')], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 });
  return { ...r, ms: Date.now() - started };
}

test('a Python without ensurepip (Debian without python3-venv) and no apt-get: the schemathesis installer says what is missing', () => {
  // ensurepip shadowed by a module that fails to import, as on a python3 whose venv support is
  // not installed; the scratch PATH has no apt-get, so the script cannot install python3-venv.
  const shadow = join(scratch, 'no-ensurepip');
  mkdirSync(shadow, { recursive: true });
  writeFileSync(join(shadow, 'ensurepip.py'), 'raise ImportError("ensurepip is not available")\n');
  const python = join(scratch, 'python3-without-venv');
  const real = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(python, `#!/bin/sh\nPYTHONPATH=${shadow} exec ${real} "$@"\n`);
  chmodSync(python, 0o755);
  const r = runSchemathesisBootstrap({ PATH: basePath(), CHAT_PYTHON: python, CHAT_BOOTSTRAP_BIN: join(scratch, 'st', 'bin'), CHAT_SCHEMATHESIS_CACHE: join(scratch, 'st', 'cache') });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /python3-venv is needed \(.*has no ensurepip, which python3 -m venv needs\), and apt-get is not available here/);
});

test('schemathesis in its venv: installed once, then a second run is a no-op', () => {
  // The project's own cache and tools/bin: make test has installed it already, so this is the
  // cached path; on a machine that has not, the first run installs it (about 30 s).
  runSchemathesisBootstrap({});
  const r = runSchemathesisBootstrap({});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing to install, nothing said');
  assert.ok(r.ms < 5_000, `took ${r.ms} ms`);
  const version = spawnSync(join(root, 'tools', 'bin', 'schemathesis'), ['--version'], { encoding: 'utf8' }).stdout;
  const pinned = /^schemathesis==(.+)$/m.exec(readFileSync(join(root, 'tools', 'bootstrap', 'schemathesis.requirements.txt'), 'utf8'))![1];
  assert.equal(version.trim(), `schemathesis, version ${pinned}`);
});
