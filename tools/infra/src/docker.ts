// Docker path: mongo:7 and rabbitmq:3-management via testcontainers, kept
// alive across processes (no Ryuk session label, reuse by id/label).
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ContainerRuntimeClient } from 'testcontainers';
import { amqpProbe, mongoPing, type Probe } from './probe.js';
import { infraDir, instanceId, isDefaultInstance, readState, updateState, type ContainerState } from './state.js';
import { log, notice, pickPort, sleep } from './util.js';

export type Kind = 'rabbit' | 'mongo';

const SPEC = {
  mongo: { image: 'mongo:7', port: 27017, defaultHostPort: 27017, scheme: (h: string, p: number) => `mongodb://${h}:${p}/` },
  rabbit: { image: 'rabbitmq:3-management', port: 5672, defaultHostPort: 5672, scheme: (h: string, p: number) => `amqp://guest:guest@${h}:${p}` },
} as const;

let clientPromise: Promise<ContainerRuntimeClient | undefined> | undefined;

/** Cheap check before loading testcontainers: is any Docker endpoint configured or present? */
function dockerEndpointConfigured(): boolean {
  if (process.env.DOCKER_HOST || process.env.TESTCONTAINERS_HOST_OVERRIDE) return true;
  if (existsSync(join(homedir(), '.testcontainers.properties'))) return true;
  const socks = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock'), join(homedir(), '.docker', 'desktop', 'docker.sock')];
  if (process.env.XDG_RUNTIME_DIR) socks.push(join(process.env.XDG_RUNTIME_DIR, 'docker.sock'));
  try {
    socks.push(join('/run/user', String(userInfo().uid), 'docker.sock'));
  } catch {
    /* no passwd entry */
  }
  return socks.some((s) => existsSync(s));
}

/**
 * A testcontainers runtime client when a Docker engine answers within timeoutMs, else undefined.
 * CHAT_INFRA_DOCKER=0 skips Docker; CHAT_INFRA_DOCKER=1 makes a missing engine an error.
 */
export function dockerClient(timeoutMs = 5000): Promise<ContainerRuntimeClient | undefined> {
  if (process.env.CHAT_INFRA_DOCKER === '0') return Promise.resolve(undefined);
  clientPromise ??= (async () => {
    if (!dockerEndpointConfigured()) return undefined;
    const tc = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)));
    try {
      return await Promise.race([tc.getContainerRuntimeClient().catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  })();
  return clientPromise;
}

export async function dockerAvailable(): Promise<boolean> {
  const c = await dockerClient();
  if (!c && process.env.CHAT_INFRA_DOCKER === '1')
    throw new Error('CHAT_INFRA_DOCKER=1 but no Docker engine answered (checked DOCKER_HOST, ~/.testcontainers.properties and the usual sockets). Start Docker or unset CHAT_INFRA_DOCKER.');
  return !!c;
}

function probe(kind: Kind, host: string, port: number, timeoutMs: number): Promise<Probe> {
  return kind === 'mongo' ? mongoPing(host, port, timeoutMs) : amqpProbe(host, port, timeoutMs);
}

async function waitReady(kind: Kind, st: ContainerState, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const p = await probe(kind, st.host, st.port, 1000);
    if (p.ok) return;
    last = p.reason;
    await sleep(250);
  }
  throw new Error(
    `${st.image} container ${st.containerId.slice(0, 12)} did not answer on ${st.host}:${st.port} within ${timeoutMs / 1000} s (${last}). ` +
      `Check \`docker logs ${st.containerId.slice(0, 12)}\`.`,
  );
}

function isLocalHost(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

export async function containerHealthy(kind: Kind, st: ContainerState | undefined): Promise<boolean> {
  if (!st || st.stopped) return false;
  return (await probe(kind, st.host, st.port, 2000)).ok;
}

async function inspect(client: ContainerRuntimeClient, id: string) {
  try {
    return await client.container.inspect(client.container.getById(id));
  } catch {
    return undefined; // removed
  }
}

/** Ensure our container for `kind` runs (reusing the recorded one), wait until it answers. */
export async function startContainer(kind: Kind): Promise<ContainerState> {
  const client = await dockerClient();
  if (!client) throw new Error('no Docker engine answers');
  const spec = SPEC[kind];
  const prevAny = readState()[kind];
  const prev = prevAny?.source === 'testcontainers' ? prevAny : undefined;

  if (prev) {
    const info = await inspect(client, prev.containerId);
    if (info) {
      if (!info.State.Running) await client.container.start(client.container.getById(prev.containerId));
      const st: ContainerState = { ...prev, stopped: false };
      await waitReady(kind, st, 120_000);
      updateState((s) => (s[kind] = st));
      return st;
    }
  }

  const { GenericContainer } = await import('testcontainers');
  const host = client.info.containerRuntime.host;
  const local = isLocalHost(host);
  // Fixed host ports keep the URL stable across stop/start.
  const hostPort = local ? await pickPort([prev?.port, isDefaultInstance() ? spec.defaultHostPort : undefined]) : (prev?.port ?? spec.defaultHostPort);
  const mgmtPort = kind === 'rabbit' ? (local ? await pickPort([isDefaultInstance() ? 15672 : undefined], [hostPort]) : 15672) : undefined;

  class LoopbackContainer extends GenericContainer {
    /** testcontainers binds 0.0.0.0; with a local engine, publish on 127.0.0.1 only. */
    loopbackOnly(): this {
      const pb = this.hostConfig.PortBindings as Record<string, Array<{ HostIp?: string; HostPort?: string }>> | undefined;
      for (const list of Object.values(pb ?? {})) for (const b of list) b.HostIp = '127.0.0.1';
      return this;
    }
  }
  const ports: Array<{ container: number; host: number }> = [{ container: spec.port, host: hostPort }];
  if (mgmtPort) ports.push({ container: 15672, host: mgmtPort });
  let c = new LoopbackContainer(spec.image)
    .withExposedPorts(...ports)
    .withLabels({ 'org.chat-infra.dir': infraDir(), 'org.chat-infra.kind': kind, 'org.chat-infra.instance': instanceId() })
    .withReuse()
    .withAutoCleanup(false)
    .withStartupTimeout(180_000);
  if (local) c = c.loopbackOnly();
  notice(`starting ${spec.image} with testcontainers on ${host}:${hostPort} (the first run pulls the image)…`);
  const started = await c.start();
  const st: ContainerState = {
    source: 'testcontainers',
    url: spec.scheme(host, hostPort),
    host,
    port: hostPort,
    containerId: started.getId(),
    image: spec.image,
    ...(mgmtPort ? { managementUrl: `http://${host}:${mgmtPort}` } : {}),
    startedAt: new Date().toISOString(),
  };
  updateState((s) => (s[kind] = st));
  await waitReady(kind, st, 120_000);
  log(`${spec.image} container ${st.containerId.slice(0, 12)} is up`);
  return st;
}

/** docker stop (server really down: connections dropped, new ones refused; port binding kept). */
export async function stopContainer(kind: Kind, remove: boolean): Promise<void> {
  const st = readState()[kind];
  if (st?.source !== 'testcontainers') return;
  const client = await dockerClient();
  if (!client) throw new Error(`Cannot stop container ${st.containerId.slice(0, 12)}: the Docker engine does not answer any more.`);
  const ref = client.container.getById(st.containerId);
  const info = await inspect(client, st.containerId);
  if (info?.State.Running) await client.container.stop(ref, { timeout: 2 });
  if (remove && info) await client.container.remove(ref, { removeVolumes: true });
  updateState((s) => {
    if (remove) delete s[kind];
    else if (s[kind]?.source === 'testcontainers') s[kind]!.stopped = true;
  });
}

/** docker kill (SIGKILL: the server crashes, its connections are reset); the container stays, for startContainer to start again. */
export async function killContainer(kind: Kind): Promise<void> {
  const st = readState()[kind];
  if (st?.source !== 'testcontainers') return;
  const client = await dockerClient();
  if (!client) throw new Error(`Cannot kill container ${st.containerId.slice(0, 12)}: the Docker engine does not answer any more.`);
  await client.container.getById(st.containerId).kill({ signal: 'SIGKILL' });
  updateState((s) => {
    if (s[kind]?.source === 'testcontainers') s[kind]!.stopped = true;
  });
}

/** docker pause / unpause (the server hangs: its connections stay open, nothing answers). */
export async function pauseContainer(kind: Kind, paused: boolean): Promise<void> {
  const st = readState()[kind];
  if (st?.source !== 'testcontainers') return;
  const client = await dockerClient();
  if (!client) throw new Error(`Cannot ${paused ? 'pause' : 'unpause'} container ${st.containerId.slice(0, 12)}: the Docker engine does not answer any more.`);
  const ref = client.container.getById(st.containerId);
  await (paused ? ref.pause() : ref.unpause());
}

/**
 * A throwaway mongo:7 container for one test run (removed by `stop`), or undefined when no
 * Docker engine answers. The data layer's conformance test runs its contract on it, to check
 * the local default's semantics against MongoDB's own.
 */
export async function startScratchMongo(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (!(await dockerAvailable())) return undefined;
  const { GenericContainer } = await import('testcontainers');
  const started = await new GenericContainer(SPEC.mongo.image).withExposedPorts(SPEC.mongo.port).withStartupTimeout(180_000).start();
  const url = SPEC.mongo.scheme(started.getHost(), started.getMappedPort(SPEC.mongo.port));
  return { url, stop: async () => void (await started.stop({ remove: true })) };
}
