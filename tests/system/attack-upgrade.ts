/**
 * A WebSocket upgrade as an attack outcome: the HTTP status and error code of a refused
 * upgrade, or 101 for a socket that opened (closed again at once).
 */
import { TestClient, wsUrl } from '@chat/testkit';
import type { Outcome } from './attack-suite.ts';

export async function upgrade(gatewayUrl: string, opts: { query?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Outcome> {
  try {
    const ws = await TestClient.open(`${wsUrl(gatewayUrl)}${opts.path ?? '/'}${opts.query ? `?${opts.query}` : ''}`, { headers: opts.headers });
    ws.close();
    return { status: 101 };
  } catch (err) {
    const { status, body } = err as { status?: number; body?: string };
    if (status === undefined) throw err;
    let parsed: any;
    try {
      parsed = JSON.parse(body ?? '');
    } catch {
      parsed = body;
    }
    return { status, code: parsed?.error?.code, body: parsed };
  }
}
