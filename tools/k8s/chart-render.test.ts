/**
 * Check (2): `helm template` of the default and the production-like values, every rendered
 * object validated against Kubernetes' API schemas (kubernetes-models, pinned by the lockfile;
 * ServiceMonitor with @kubernetes-models/prometheus-operator), plus an unknown-field check and
 * the chart's own contract (labels, selectors, probes, security, env, shutdown budget).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { find, helmTemplate, type K8sObject } from './src/helm.ts';
import { PRODUCTION_VALUES, SERVICE_PORTS, SERVICES, WEB, type ServiceName } from './src/paths.ts';
import { describe as describeObject, unknownFieldErrors, validateAll } from './src/validate.ts';

type Any = any; // rendered manifests are untyped JSON

const VALUE_SETS = [
  { name: 'default values', valuesFiles: [] as string[] },
  { name: 'ci/production-values.yaml', valuesFiles: [PRODUCTION_VALUES] },
];

const rendered = new Map<string, K8sObject[]>();
before(() => {
  for (const vs of VALUE_SETS) rendered.set(vs.name, helmTemplate({ valuesFiles: vs.valuesFiles }));
});

function containerOf(objects: K8sObject[], svc: ServiceName): Any {
  const d = find(objects, 'Deployment', `chat-${svc}`) as Any;
  return d.spec.template.spec.containers[0];
}

function envMap(container: Any): Map<string, Any> {
  return new Map((container.env as Any[]).map((e) => [e.name, e]));
}

for (const vs of VALUE_SETS) {
  describe(`helm template (${vs.name})`, () => {
    it('every object is valid against the Kubernetes API schemas', async () => {
      const objects = rendered.get(vs.name)!;
      const results = await validateAll(objects);
      for (const r of results) if (r.status === 'skipped') console.log(`# not schema-validated: ${r.object}: ${r.detail}`);
      const invalid = results.filter((r) => r.status === 'invalid');
      assert.deepEqual(invalid, [], invalid.map((r) => `${r.object}: ${r.detail}`).join('\n'));
      assert.equal(results.filter((r) => r.status === 'skipped').length, 0, 'every rendered kind has a schema');
      console.log(`# ${results.length} objects valid: ${objects.map(describeObject).join(', ')}`);
    });

    it('has the three Deployments and Services, selecting disjoint pods', () => {
      const objects = rendered.get(vs.name)!;
      const selectors = new Set<string>();
      for (const svc of SERVICES) {
        const d = find(objects, 'Deployment', `chat-${svc}`) as Any;
        const s = find(objects, 'Service', `chat-${svc}`) as Any;
        const sel = d.spec.selector.matchLabels;
        assert.deepEqual(Object.keys(sel).sort(), ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name']);
        assert.equal(sel['app.kubernetes.io/component'], svc);
        assert.deepEqual(s.spec.selector, sel, 'Service selects exactly its Deployment');
        for (const [k, v] of Object.entries(sel)) assert.equal(d.spec.template.metadata.labels[k], v, `pod template carries ${k}`);
        selectors.add(JSON.stringify(sel));
        assert.equal(s.spec.ports[0].port, SERVICE_PORTS[svc]);
        assert.equal(s.spec.ports[0].targetPort, 'http');
      }
      assert.equal(selectors.size, 3);
    });

    it('labels every object with the app.kubernetes.io set and helm.sh/chart', () => {
      for (const o of rendered.get(vs.name)!) {
        const l = o.metadata.labels ?? {};
        for (const k of ['name', 'instance', 'version', 'managed-by', 'part-of']) assert.ok(l[`app.kubernetes.io/${k}`], `${describeObject(o)} lacks app.kubernetes.io/${k}`);
        assert.match(l['helm.sh/chart'] ?? '', /^chat-\d+\.\d+\.\d+/, `${describeObject(o)} lacks helm.sh/chart`);
        if (['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy'].includes(o.kind)) {
          assert.ok([...SERVICES, WEB.component].includes(l['app.kubernetes.io/component'] as ServiceName), `${describeObject(o)} lacks its component label`);
        }
      }
    });

    it('runs non-root with a read-only root filesystem, no capabilities and /tmp as emptyDir', () => {
      const objects = rendered.get(vs.name)!;
      for (const svc of SERVICES) {
        const d = find(objects, 'Deployment', `chat-${svc}`) as Any;
        const pod = d.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
        assert.equal(c.securityContext.runAsNonRoot, true);
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        assert.equal(pod.automountServiceAccountToken, false);
        const tmp = c.volumeMounts.find((m: Any) => m.mountPath === '/tmp');
        assert.ok(tmp, '/tmp is mounted');
        assert.ok(pod.volumes.find((v: Any) => v.name === tmp.name).emptyDir, '/tmp is an emptyDir');
      }
    });

    it('probes /healthz (liveness) and /readyz (readiness) on the service port', () => {
      for (const svc of SERVICES) {
        const c = containerOf(rendered.get(vs.name)!, svc);
        assert.equal(c.ports[0].containerPort, SERVICE_PORTS[svc]);
        assert.equal(c.ports[0].name, 'http');
        assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
        assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
      }
    });

    it('gives the drain time to finish: terminationGracePeriodSeconds > preStop sleep + SHUTDOWN_GRACE_MS', () => {
      for (const svc of SERVICES) {
        const d = find(rendered.get(vs.name)!, 'Deployment', `chat-${svc}`) as Any;
        const c = d.spec.template.spec.containers[0];
        const sleep = c.lifecycle.preStop.sleep?.seconds ?? Number(c.lifecycle.preStop.exec.command[1]);
        const drainMs = Number(envMap(c).get('SHUTDOWN_GRACE_MS').value);
        assert.ok(sleep > 0, 'preStop sleeps');
        assert.ok(d.spec.template.spec.terminationGracePeriodSeconds > sleep + drainMs / 1000, `${svc}: grace period too short`);
      }
    });

    it('sets the env contract of every service', () => {
      const objects = rendered.get(vs.name)!;
      const common = ['PORT', 'LOG_LEVEL', 'NODE_ENV', 'SHUTDOWN_GRACE_MS', 'JWT_ISSUER', 'JWT_AUDIENCE', 'SERVICE_TOKEN_SECRET'];
      const specific: Record<ServiceName, string[]> = {
        auth: [
          'MONGO_URL',
          'MONGO_DB',
          'JWT_PRIVATE_KEY',
          'JWT_TTL_SECONDS',
          'BCRYPT_COST',
          'BCRYPT_MAX_CONCURRENT',
          'BCRYPT_MAX_QUEUED',
          'TRUST_PROXY_HOPS',
          'ADDRESS_ATTEMPTS_PER_MINUTE',
          'ADDRESS_REGISTRATIONS_PER_HOUR',
          'LOGIN_MAX_FAILURES',
          'LOGIN_FAILURE_WINDOW_SECONDS',
          'LOGIN_DELAY_AFTER_FAILURES',
          'LOGIN_DELAY_MAX_SECONDS',
          'LOGIN_KNOWN_ADDRESS_DAYS',
        ],
        chat: ['MONGO_URL', 'MONGO_DB', 'AMQP_URL', 'AUTH_URL'],
        gateway: ['AMQP_URL', 'AUTH_URL', 'CHAT_URL', 'POD_NAME', 'ALLOWED_ORIGINS', 'MAX_FRAMES_PER_SECOND', 'REPLAY_LIMIT'],
      };
      for (const svc of SERVICES) {
        const c = containerOf(objects, svc);
        const env = envMap(c);
        assert.equal(env.size, (c.env as Any[]).length, `${svc}: duplicate env names`);
        for (const name of [...common, ...specific[svc]]) assert.ok(env.has(name), `${svc} lacks ${name}`);
        assert.equal(env.get('NODE_ENV').value, 'production');
        assert.equal(env.get('PORT').value, String(SERVICE_PORTS[svc]));
        assert.ok(env.get('SERVICE_TOKEN_SECRET').valueFrom.secretKeyRef, 'shared secret from a Secret');
        // $(VAR) references must point at variables defined earlier in the list
        const names = (c.env as Any[]).map((e) => e.name);
        (c.env as Any[]).forEach((e, i) => {
          for (const m of String(e.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)) {
            assert.ok(names.slice(0, i).includes(m[1]), `${svc}: ${e.name} uses $(${m[1]}) before it is defined`);
          }
          assert.doesNotMatch(String(e.value ?? '').replace(/\$\([A-Z0-9_]+\)/g, ''), /password|secret/i, `${svc}: ${e.name} has a literal secret-looking value`);
        });
      }
      const gw = envMap(containerOf(objects, 'gateway'));
      assert.deepEqual(gw.get('POD_NAME').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
      assert.equal(gw.get('AUTH_URL').value, 'http://chat-auth:5001');
      assert.equal(gw.get('CHAT_URL').value, 'http://chat-chat:5002');
      const auth = envMap(containerOf(objects, 'auth'));
      assert.match(auth.get('MONGO_URL').value, /^mongodb:\/\/\$\(MONGO_USERNAME\):\$\(MONGO_PASSWORD\)@/);
      assert.ok(auth.get('MONGO_PASSWORD').valueFrom.secretKeyRef);
      assert.ok(auth.get('JWT_PRIVATE_KEY').valueFrom.secretKeyRef);
      const chat = envMap(containerOf(objects, 'chat'));
      assert.match(chat.get('AMQP_URL').value, /^amqps?:\/\/\$\(AMQP_USERNAME\):\$\(AMQP_PASSWORD\)@/);
    });
  });
}

describe('unknown fields', () => {
  it('no rendered object has a field its API type does not declare (TypeScript excess-property check)', () => {
    const all = VALUE_SETS.flatMap((vs) => rendered.get(vs.name)!);
    assert.deepEqual(unknownFieldErrors(all), []);
  });

  it('the check does catch a misplaced field', () => {
    const d = structuredClone(find(rendered.get('default values')!, 'Deployment', 'chat-auth')) as Any;
    d.spec.template.spec.containers[0].readinesProbe = d.spec.template.spec.containers[0].readinessProbe;
    const errors = unknownFieldErrors([d]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /Deployment chat-auth: .*readinesProbe/);
  });
});

describe('defaults vs production-like values', () => {
  it('default values: no HPA, PDB, ServiceMonitor or NetworkPolicy; generated Secrets', () => {
    const kinds = rendered.get('default values')!.map((o) => o.kind);
    for (const k of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceMonitor', 'NetworkPolicy']) assert.ok(!kinds.includes(k), `${k} rendered by default`);
    const web = rendered.get('default values')!.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === WEB.component);
    assert.deepEqual(web.map(describeObject), [], 'the web client is off by default');
    const secrets = rendered.get('default values')!.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name).sort();
    assert.deepEqual(secrets, ['chat-jwt', 'chat-service-token']);
  });

  it('production values: HPA, PDB and NetworkPolicy per service, one ServiceMonitor, no generated Secrets', () => {
    const objects = rendered.get('ci/production-values.yaml')!;
    for (const svc of SERVICES) {
      for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy']) find(objects, kind, `chat-${svc}`);
      assert.equal((find(objects, 'Deployment', `chat-${svc}`) as Any).spec.replicas, undefined, 'the HPA owns replicas');
    }
    assert.equal(objects.filter((o) => o.kind === 'ServiceMonitor').length, 1);
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'chat-gateway') as Any;
    const pods = hpa.spec.metrics.find((m: Any) => m.type === 'Pods');
    assert.equal(pods.pods.metric.name, 'gateway_open_sockets');
    const sm = objects.find((o) => o.kind === 'ServiceMonitor') as Any;
    assert.equal(sm.spec.endpoints[0].path, '/metrics');
    assert.deepEqual(Object.keys(sm.spec.selector.matchLabels).sort(), ['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
  });
});

describe('web client and browser origins (ci/production-values.yaml enables them)', () => {
  const objects = () => rendered.get('ci/production-values.yaml')!;

  it('runs the web client like the services: non-root, read-only, no capabilities, probed, with resources', () => {
    const d = find(objects(), 'Deployment', 'chat-web') as Any;
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.match(c.image, new RegExp(`/${WEB.image}:`));
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 1000);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.ok(c.resources.limits.memory && c.resources.requests.cpu);
    assert.equal(c.ports[0].containerPort, WEB.port);
    const sleep = c.lifecycle.preStop.sleep.seconds as number;
    assert.ok(pod.terminationGracePeriodSeconds > sleep + 10, 'room for the preStop sleep and server.mjs\'s 10 s drain');
    const env = envMap(c);
    assert.equal(env.get('HOST').value, '0.0.0.0');
    assert.equal(env.get('PORT').value, String(WEB.port));
    assert.equal(env.get('AUTH_PUBLIC_URL').value, 'https://auth.chat.example.com');
    assert.equal(env.get('CHAT_PUBLIC_URL').value, 'https://api.chat.example.com');
    assert.equal(env.get('GATEWAY_PUBLIC_URL').value, 'wss://ws.chat.example.com');
    const s = find(objects(), 'Service', 'chat-web') as Any;
    assert.deepEqual(s.spec.selector, d.spec.selector.matchLabels);
    assert.equal(s.spec.ports[0].port, WEB.port);
  });

  it('gives the production origins to Auth and Chat (CORS_ORIGINS) and the gateway (ALLOWED_ORIGINS), all https', () => {
    const origins = 'https://chat.example.com,https://app.example.com';
    assert.equal(envMap(containerOf(objects(), 'auth')).get('CORS_ORIGINS').value, origins);
    assert.equal(envMap(containerOf(objects(), 'chat')).get('CORS_ORIGINS').value, origins);
    assert.equal(envMap(containerOf(objects(), 'gateway')).get('ALLOWED_ORIGINS').value, origins);
    for (const o of origins.split(',')) assert.match(o, /^https:\/\/[^/*]+$/);
  });

  it('keeps the web pod away from the services and Prometheus away from the web pod', () => {
    for (const svc of SERVICES) {
      const np = find(objects(), 'NetworkPolicy', `chat-${svc}`) as Any;
      const peer = np.spec.ingress[0].from[0].podSelector;
      assert.deepEqual(peer.matchExpressions, [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...SERVICES] }]);
    }
    const web = find(objects(), 'NetworkPolicy', 'chat-web') as Any;
    assert.deepEqual(web.spec.podSelector.matchLabels['app.kubernetes.io/component'], WEB.component);
    assert.deepEqual(web.spec.egress, [], 'the web server calls nothing');
    assert.ok(web.spec.ingress[0].from.length > 0, 'ingress only from the listed peers');
    const sm = objects().find((o) => o.kind === 'ServiceMonitor') as Any;
    assert.deepEqual(sm.spec.selector.matchExpressions, [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...SERVICES] }]);
  });
});

describe('generated JWT signing key', () => {
  it('is an ECDSA P-256 PKCS#8 PEM that signs and verifies ES256', () => {
    const secret = find(rendered.get('default values')!, 'Secret', 'chat-jwt') as Any;
    const pem = Buffer.from(secret.data['jwt-private-key'], 'base64').toString('utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PRIVATE KEY-----\n$/);
    const key = createPrivateKey({ key: pem, format: 'pem', type: 'pkcs8' });
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const sig = sign('sha256', Buffer.from('x'), { key, dsaEncoding: 'ieee-p1363' });
    assert.ok(verify('sha256', Buffer.from('x'), { key: createPublicKey(key), dsaEncoding: 'ieee-p1363' }, sig));
  });

  it('is imported by jose as an ES256 PKCS#8 key (what the auth service does)', async () => {
    const { importPKCS8, SignJWT, jwtVerify, exportSPKI, importSPKI } = await import('jose');
    const secret = find(rendered.get('default values')!, 'Secret', 'chat-jwt') as Any;
    const pem = Buffer.from(secret.data['jwt-private-key'], 'base64').toString('utf8');
    const key = await importPKCS8(pem, 'ES256', { extractable: true });
    const jwt = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('chat-auth').setAudience('chat').sign(key);
    const pub = await importSPKI(await exportSPKI(createPublicKey(createPrivateKey(pem)) as Any), 'ES256');
    const { payload } = await jwtVerify(jwt, pub, { issuer: 'chat-auth', audience: 'chat' });
    assert.equal(payload.sub, 'u1');
  });

  it('differs between renders (no fixed key in the chart)', () => {
    const again = helmTemplate({});
    const a = (find(rendered.get('default values')!, 'Secret', 'chat-jwt') as Any).data['jwt-private-key'];
    const b = (find(again, 'Secret', 'chat-jwt') as Any).data['jwt-private-key'];
    assert.notEqual(a, b);
    const token = Buffer.from((find(again, 'Secret', 'chat-service-token') as Any).data['service-token-secret'], 'base64').toString();
    assert.match(token, /^[A-Za-z0-9]{48}$/);
  });
});
