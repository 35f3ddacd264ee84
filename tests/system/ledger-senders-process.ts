/**
 * The chaos load's senders (chaos-load.ts, LedgerSenders) in a process of their own, so that the
 * latency they time is Chat's answer, not the test's event loop: a test that also runs hundreds
 * of WebSocket receivers (and a proxy) delays every timer and callback of its process by
 * hundreds of ms while they reconnect together. Each acknowledgement reaches the test's ledger
 * as an IPC message (with the sender process's timestamps: Date.now, one clock).
 *
 * This file is both sides: `SendersProcess` for the test, and the child's entry when run with
 * LEDGER_SENDERS=1. (A worker thread would do, but tsx's loader does not reach workers.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestUser } from '@chat/testkit';
import { LedgerSenders, type Attempt, type SenderOptions } from './chaos-load.ts';
import { DeliveryLedger, type Acknowledged } from './delivery-ledger.ts';

type Pair = { sender: TestUser; receiver: TestUser };
type ProcessOptions = Omit<SenderOptions, 'chatUrl'> & { chatUrl: string };
type FromChild = { ack: Acknowledged } | { done: { attempts: Attempt[]; sent: number; unresolved: number } };

type ToChild = { start: { pairs: Pair[]; opts: ProcessOptions } } | { stop: number };

/** The senders in a child process; acknowledgements go to `ledger` as they come. */
export class SendersProcess {
  attempts: Attempt[] = [];
  sent = 0;
  unresolved = 0;
  private readonly child: ChildProcess;
  private readonly finished: Promise<void>;

  constructor(pairs: Pair[], ledger: DeliveryLedger, opts: ProcessOptions) {
    this.child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--conditions=development', '--import', 'tsx'],
      env: { ...process.env, LEDGER_SENDERS: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.finished = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromChild) => {
        if ('ack' in m) ledger.acknowledge(m.ack);
        else {
          ({ attempts: this.attempts, sent: this.sent, unresolved: this.unresolved } = m.done);
          resolve();
        }
      });
      this.child.once('exit', (code) => reject(new Error(`the senders' process exited early (${code})`)));
    });
    this.finished.catch(() => undefined); // reported by stop()
    this.child.send({ start: { pairs, opts } } satisfies ToChild);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stops starting messages, lets those in flight retry for at most `drainMs`, and collects the attempts. */
  async stop(drainMs: number): Promise<void> {
    this.child.send({ stop: drainMs } satisfies ToChild);
    try {
      await this.finished;
    } finally {
      this.child.kill();
    }
  }
}

/** A ledger that also tells the test's process about each acknowledgement. */
class ForwardingLedger extends DeliveryLedger {
  override acknowledge(entry: Acknowledged): void {
    super.acknowledge(entry);
    process.send!({ ack: entry } satisfies FromChild);
  }
}

if (process.env.LEDGER_SENDERS === '1' && process.send) {
  let senders: LedgerSenders | undefined;
  process.on('message', (m: ToChild) => {
    if ('start' in m) {
      const { pairs, opts } = m.start;
      senders = new LedgerSenders(pairs, new ForwardingLedger(), { ...opts, chatUrl: () => opts.chatUrl });
      senders.start();
    } else if (senders) {
      const running = senders;
      void running.stop(m.stop).then(() => process.send!({ done: { attempts: running.attempts, sent: running.sent, unresolved: running.unresolved } } satisfies FromChild));
    }
  });
}
