/** One goal of `make bench`: its target, what this run measured, and the verdict (its own module: the scenarios judge goals, results.ts records them). */
export interface GoalResult {
  id: string;
  scenario: number;
  what: string;
  target: string;
  value: string;
  /** null: not measured in this run (the reason is in `cause`). */
  met: boolean | null;
  /**
   * Shown instead of a verdict when `met` is null on purpose: "machine-bound" (a ratio the machine
   * decided, not the gateways), "figure" (a measure reported without a target).
   */
  label?: string;
  cause?: string;
}
