/**
 * A FIFO semaphore: at most `max` tasks run at once, the others wait their turn in arrival
 * order, without a bound or a deadline (the caller's own timeouts end a task, never its wait).
 * For work a process sends elsewhere (the gateway's replay reads to Chat, Chat's user lookups
 * to Auth), so a burst arrives at the other service at the pace it serves, not all at once.
 * Cost: O(1) per task; the waiters are an array shifted when a slot frees.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A freed slot is handed to the longest waiter as it is (`active` unchanged), so a task
    // arriving before that waiter resumes cannot take the slot too.
    if (this.active >= this.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else if (--this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  get busy(): boolean {
    return this.active > 0 || this.queue.length > 0;
  }

  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }
}
