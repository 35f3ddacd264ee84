/**
 * Entry point: where the services are comes from /config.json (server.mjs writes it from its
 * environment), so one build works locally, behind an ingress and through port-forwards.
 * The session lives in sessionStorage, one per tab, so two tabs can be two users; what is per
 * user (saved stream, read marks) in localStorage, so two tabs of one user agree (storage.ts).
 */
import type { Endpoints } from '@chat/client-core';
import { App } from './app.ts';
import { h } from './dom.ts';
import { PageStorage } from './storage.ts';

async function loadConfig(): Promise<Endpoints> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/config.json answered ${res.status}`);
  const c = (await res.json()) as Partial<Endpoints>;
  for (const key of ['authUrl', 'chatUrl', 'gatewayUrl'] as const) {
    if (typeof c[key] !== 'string' || !c[key]) throw new Error(`/config.json lacks ${key}`);
  }
  return c as Endpoints;
}

const root = document.getElementById('app')!;
try {
  new App(root, await loadConfig(), new PageStorage(sessionStorage, localStorage)).start();
} catch (err) {
  root.replaceChildren(h('main', { class: 'login-screen' }, h('p', { class: 'error card', role: 'alert', 'data-testid': 'startup-error' }, `The page cannot start: ${(err as Error).message}`)));
}
