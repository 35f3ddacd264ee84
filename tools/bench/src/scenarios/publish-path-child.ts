/**
 * Scenario 2 runs in its own process: it runs the chat service's publish-path measurement
 * (publish-path.ts, which drives the service's real publisher with confirms) and prints its
 * result as the last stdout line, so whatever handles it leaves open cannot keep the harness
 * alive.
 */
import { measurePublishPath } from './publish-path.js';

const [amqpUrl, count] = process.argv.slice(2);
if (!amqpUrl || !count) {
  console.error('usage: publish-path-child.ts <amqpUrl> <count>');
  process.exit(2);
}
const result = await measurePublishPath({ amqpUrl, count: Number(count) });
process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
process.exit(0);
