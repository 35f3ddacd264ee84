/**
 * The live progress line of a long scenario: rate, connections and p99 so far. On a terminal
 * it rewrites one line in place; in a log (CI, `tee`) it prints a line every few seconds so
 * the output stays readable.
 */

export interface ProgressFields {
  rate?: number;
  connections?: number;
  p99Ms?: number;
  extra?: string;
}

export class ProgressLine {
  private readonly tty = Boolean(process.stderr.isTTY);
  private lastPrint = 0;
  private shown = false;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly logEveryMs = 5_000,
  ) {}

  static format(label: string, elapsedS: number, f: ProgressFields): string {
    const parts = [`${label} ${elapsedS.toFixed(0)}s`];
    if (f.rate !== undefined) parts.push(`rate ${Math.round(f.rate).toLocaleString('en-US')}/s`);
    if (f.connections !== undefined) parts.push(`conns ${f.connections.toLocaleString('en-US')}`);
    if (f.p99Ms !== undefined) parts.push(`p99 ${Number.isFinite(f.p99Ms) ? f.p99Ms.toFixed(1) : '-'} ms`);
    if (f.extra) parts.push(f.extra);
    return parts.join(' | ');
  }

  update(f: ProgressFields): void {
    const now = performance.now();
    const text = ProgressLine.format(this.label, (now - this.t0) / 1000, f);
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (now - this.lastPrint >= this.logEveryMs) {
      process.stderr.write(`${text}\n`);
      this.lastPrint = now;
    }
  }

  done(): void {
    if (this.tty && this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}
