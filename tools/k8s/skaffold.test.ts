/**
 * Check (5): skaffold.yaml against the chart. skaffold (binary and JSON schemas) cannot be
 * installed from the registries this project reaches, so the file is parsed and compared with
 * the chart: artifacts (Dockerfile and build args) vs setValueTemplates, chart path, Bitnami
 * release names vs the chart's default hosts and Secret names, pinned versions and
 * bitnamilegacy images, port forwards, and the web page's forwarded origin vs the CORS values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helmTemplate } from './src/helm.ts';
import { chatRelease, loadSkaffold, skaffoldProblems, templateName, type SkaffoldConfig } from './src/skaffold.ts';

describe('skaffold.yaml', () => {
  const cfg = loadSkaffold();

  it('agrees with the chart', () => {
    assert.deepEqual(skaffoldProblems(cfg), []);
  });

  it('maps artifact names to template variables the way skaffold does (- and / become _)', () => {
    assert.equal(templateName('chat-auth'), 'chat_auth');
    assert.equal(templateName('ghcr.io/acme/chat-gateway'), 'ghcr_io_acme_chat_gateway');
  });

  it('renders with the values skaffold sets (simulated IMAGE_REPO_/IMAGE_TAG_ substitution)', () => {
    const rel = chatRelease(cfg)!;
    const set: Record<string, string> = {};
    for (const [k, tpl] of Object.entries(rel.setValueTemplates ?? {})) {
      set[k] = tpl.replace(/\{\{\.IMAGE_REPO_([a-z_]+)\}\}/, (_, a: string) => a.replace(/_/g, '-')).replace(/\{\{\.IMAGE_TAG_[a-z_]+\}\}/, '4f2a9c0d1e');
    }
    for (const [k, v] of Object.entries(rel.setValues ?? {})) set[k] = String(v);
    const objects = helmTemplate({ release: rel.name, namespace: rel.namespace ?? 'default', set });
    const images = objects.filter((o) => o.kind === 'Deployment').map((d: any) => d.spec.template.spec.containers[0].image).sort();
    assert.deepEqual(images, ['chat-auth:4f2a9c0d1e', 'chat-chat:4f2a9c0d1e', 'chat-gateway:4f2a9c0d1e', 'chat-web:4f2a9c0d1e']);
    const services = objects.filter((o) => o.kind === 'Service').map((s) => s.metadata.name).sort();
    const forwarded = (cfg.portForward ?? []).map((p) => p.resourceName).sort();
    assert.deepEqual(forwarded, services, 'portForward names the rendered Services');
    // The forwarded page's origin reaches every service that checks origins.
    const env = (name: string) => new Map(((objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as any).spec.template.spec.containers[0].env as any[]).map((e) => [e.name, e.value]));
    const dev = 'http://127.0.0.1:5000,http://localhost:5000';
    assert.equal(env('chat-auth').get('CORS_ORIGINS'), dev);
    assert.equal(env('chat-chat').get('CORS_ORIGINS'), dev);
    assert.equal(env('chat-gateway').get('ALLOWED_ORIGINS'), dev);
    assert.equal(env('chat-web').get('GATEWAY_PUBLIC_URL'), 'ws://127.0.0.1:5003');
  });

  it('reports a web page whose forwarded origin the services would refuse', () => {
    const broken = structuredClone(cfg) as SkaffoldConfig;
    delete chatRelease(broken)!.setValues!['cors.allowedOrigins[1]'];
    assert.ok(skaffoldProblems(broken).some((p) => p.includes('cors.allowedOrigins lacks http://localhost:5000')));
    chatRelease(broken)!.setValues!['web.enabled'] = false;
    assert.ok(skaffoldProblems(broken).some((p) => p.includes('must set web.enabled: true')));
  });

  it('reports a missing web artifact or port-forward', () => {
    const broken = structuredClone(cfg) as SkaffoldConfig;
    broken.build!.artifacts = broken.build!.artifacts!.filter((a) => a.image !== 'chat-web');
    broken.portForward = broken.portForward!.filter((p) => p.resourceName !== 'chat-web');
    const problems = skaffoldProblems(broken);
    assert.ok(problems.includes('no build artifact chat-web'), problems.join('\n'));
    assert.ok(problems.includes('no portForward for service chat-web'), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('IMAGE_REPO_chat_web')), 'the web image template has no artifact');
  });

  it('reports a service artifact built without its SERVICE/PORT build args or from another Dockerfile', () => {
    const broken = structuredClone(cfg) as SkaffoldConfig;
    const artifact = (image: string) => broken.build!.artifacts!.find((a) => a.image === image)!;
    artifact('chat-auth').docker!.buildArgs = { SERVICE: 'auth', PORT: 5001 };
    delete artifact('chat-chat').docker!.buildArgs;
    artifact('chat-gateway').docker!.buildArgs = { SERVICE: 'chat', PORT: '5003' };
    artifact('chat-web').docker!.dockerfile = 'services/Dockerfile';
    const problems = skaffoldProblems(broken);
    assert.ok(problems.some((p) => p.startsWith('artifact chat-auth: docker.buildArgs')), `a number is not a build arg: ${problems.join('\n')}`);
    assert.ok(problems.some((p) => p.startsWith('artifact chat-chat: docker.buildArgs {}')), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('artifact chat-gateway: docker.buildArgs')), problems.join('\n'));
    assert.ok(problems.includes('artifact chat-web: dockerfile services/Dockerfile, want clients/web/Dockerfile'), problems.join('\n'));
  });

  it('reports a mismatched artifact name', () => {
    const broken = structuredClone(cfg) as SkaffoldConfig;
    chatRelease(broken)!.setValueTemplates!['auth.image.repository'] = '{{.IMAGE_REPO_chat-auth}}';
    assert.ok(skaffoldProblems(broken).some((p) => p.includes('auth.image.repository')));
  });

  it('reports a Bitnami release renamed away from the chart default host', () => {
    const broken = structuredClone(cfg) as SkaffoldConfig;
    broken.deploy!.helm!.releases!.find((r) => r.name === 'mongodb')!.name = 'mongo';
    const problems = skaffoldProblems(broken);
    assert.ok(problems.some((p) => /mongodb release is named mongo, but the chart's default mongodb.host is mongodb/.test(p)), problems.join('\n'));
  });
});
