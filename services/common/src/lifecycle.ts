import { ConfigError } from './env-config.js';
import { createLogger, type Logger } from './logger.js';

export type ShutdownStep = { name: string; run: () => Promise<void> | void };

/**
 * Process lifecycle shared by every service. On SIGTERM/SIGINT `closing` turns true first (so
 * readiness fails and load balancers stop sending), then the shutdown steps run in order, and
 * the process exits. If the steps overrun the grace period the process exits anyway.
 */
export class Lifecycle {
  closing = false;
  private readonly steps: ShutdownStep[] = [];
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly logger: Logger, private readonly graceMs: number) {}

  /** Steps run in the order they were added. */
  onShutdown(name: string, run: ShutdownStep['run']): void {
    this.steps.push({ name, run });
  }

  installSignalHandlers(): void {
    const handler = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'shutdown requested');
      void this.shutdown().then(() => process.exit(0));
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }

  shutdown(): Promise<void> {
    this.shuttingDown ??= this.runSteps();
    return this.shuttingDown;
  }

  private async runSteps(): Promise<void> {
    this.closing = true;
    const deadline = setTimeout(() => {
      this.logger.error({ graceMs: this.graceMs }, 'shutdown overran its grace period; exiting');
      process.exit(1);
    }, this.graceMs);
    deadline.unref();
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        this.logger.warn({ err, step: step.name }, 'shutdown step failed');
      }
    }
    clearTimeout(deadline);
    this.logger.info('shutdown complete');
  }
}

/**
 * The start of every service's index.ts: load the config (a ConfigError is logged as one fatal
 * line naming the variable, and the process exits 1), then run `main`; a start-up failure is
 * likewise fatal rather than an unhandled rejection.
 */
export function runService<C>(service: string, loadConfig: () => C, main: (config: C) => Promise<void>): void {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ service }).fatal({ variable: err.variable }, err.message);
    process.exit(1);
  }
  main(config).catch((err: unknown) => {
    createLogger({ service }).fatal({ err }, err instanceof ConfigError ? err.message : `${service} failed to start`);
    process.exit(1);
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
