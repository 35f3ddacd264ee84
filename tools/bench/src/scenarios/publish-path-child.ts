/**
 * Scenario 2 runs in its own process: it loads the chat service's publish-path measurement
 * (services/chat/bench/publish-path.ts, which drives the service's real publisher with
 * confirms) and prints its result as the last stdout line, so whatever handles it leaves open
 * cannot keep the harness alive.
 */
import { pathToFileURL } from 'node:url';

const [modulePath, amqpUrl, count] = process.argv.slice(2);
if (!modulePath || !amqpUrl || !count) {
  console.error('usage: publish-path-child.ts <publish-path.ts> <amqpUrl> <count>');
  process.exit(2);
}
const mod = (await import(pathToFileURL(modulePath).href)) as { measurePublishPath: (o: { amqpUrl: string; count: number }) => Promise<Record<string, unknown> & { msgPerSec: number }> };
const result = await mod.measurePublishPath({ amqpUrl, count: Number(count) });
process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
process.exit(0);
