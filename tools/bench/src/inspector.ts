/**
 * A minimal Chrome DevTools Protocol client for a process started with `--inspect=<port>`: forces
 * a full garbage collection and reads process.memoryUsage(), so each step is measured on a
 * collected heap rather than on whatever garbage the last connects left.
 */
import WebSocket from 'ws';

export interface Inspector {
  gc(): Promise<void>;
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  close(): void;
}

export async function connectInspector(port: number): Promise<Inspector> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return {
    async gc() {
      await call('HeapProfiler.collectGarbage');
      await call('HeapProfiler.collectGarbage');
    },
    async memoryUsage() {
      const r = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
      return JSON.parse(r.result.value) as NodeJS.MemoryUsage;
    },
    close: () => ws.close(),
  };
}
