/**
 * The resume windows of new sockets (see socket-streams.ts): live frames wait `windowMs` after
 * connect for a possible `resume` first frame. Every window lasts the same time, so windows end in
 * the order they began: one FIFO queue and one timer serve them all, instead of a Timeout object
 * and a closure per socket (about 200 bytes each, 10k+ of them during a reconnect storm).
 *
 * A window ended early (the first frame came) is not searched for: `onEnd` is still called for it
 * when its time comes, and must ignore an item whose window already ended. The queue keeps such an
 * item at most `windowMs` longer. Windows end up to `granularityMs` late, so one timer run ends
 * all the windows of a burst of connects.
 */
export class ResumeWindows<T> {
  private items: (T | undefined)[] = [];
  private deadlines: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly opts: {
      windowMs: number;
      onEnd: (item: T) => void;
      granularityMs?: number;
      /** Monotonic milliseconds; performance.now by default. */
      now?: () => number;
      /** False in tests that call expire() themselves. */
      useTimer?: boolean;
    },
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Opens a window for `item`, ending `windowMs` from now. */
  open(item: T): void {
    this.items.push(item);
    this.deadlines.push(this.now() + this.opts.windowMs);
    this.arm();
  }

  /** Windows not yet expired (including those ended early, until their time comes). */
  get pending(): number {
    return this.items.length - this.head;
  }

  /** Ends every window whose time has come, oldest first. */
  expire(now = this.now()): void {
    while (this.head < this.items.length && this.deadlines[this.head]! <= now) {
      const item = this.items[this.head]!;
      this.items[this.head] = undefined;
      this.head++;
      this.opts.onEnd(item);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.deadlines = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
  }

  /** Stops the timer; pending windows end only through expire(). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined || this.opts.useTimer === false || this.pending === 0) return;
    const delay = Math.max(0, this.deadlines[this.head]! - this.now()) + (this.opts.granularityMs ?? 10);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expire();
      this.arm();
    }, delay);
    this.timer.unref();
  }
}
