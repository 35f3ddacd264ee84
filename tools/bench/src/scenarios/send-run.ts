/**
 * What one open-loop send step measured: the figures the scenarios' plans judge (local-db-plan.ts,
 * overload-plan.ts) and e2e.ts produces, in a module of their own so the plans need not import
 * the runner that imports them.
 */
import type { TimeWindow } from '../profile.js';
import type { CpuSnapshot } from './common.js';

export interface SendRun {
  targetRate: number;
  seconds: number;
  attempted: number;
  ok: number;
  okPerSec: number;
  errors: Record<string, number>;
  skipped: number;
  sendP50Ms: number;
  sendP99Ms: number;
  sendMaxMs: number;
  cpu: CpuSnapshot;
  loadgenLimited: boolean;
  window: TimeWindow;
}

export interface RampStep extends SendRun {
  sustainable: boolean;
}
