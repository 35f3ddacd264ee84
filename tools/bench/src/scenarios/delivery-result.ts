/**
 * What a delivery ramp (scenario 3, 6, 10, 11) measures, as plain data: the runner
 * (delivery.ts) writes it, the plans that judge it (gateway-cpu-plan.ts, signals-plan.ts) and the
 * renderer read it, none of them importing the runner.
 */
import type { TimeWindow } from '../profile.js';
import type { CpuSnapshot } from './common.js';

export interface DeliveryStep {
  targetRate: number;
  injected: number;
  injectedPerSec: number;
  injectorLimited: boolean;
  frames: number;
  expectedFrames: number;
  /** Events delivered per second: frames / frames-per-event over the injection time. */
  deliveredPerSec: number;
  framesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  closedByServer: number;
  cpu: CpuSnapshot;
  gatewayRssMiB: number;
  loadgenLimited: boolean;
  pass: boolean;
  /** Set on a step that failed once and was run again (the result shown is the second try). */
  firstTry?: { p99Ms: number; maxMs: number; frames: number; expectedFrames: number };
  window: TimeWindow;
}

export interface DeliveryResult {
  gateway: string;
  sockets: number;
  users: number;
  framesPerEvent: number;
  stepSeconds: number;
  steps: DeliveryStep[];
  /** The highest passing step's delivered rate (events/s), or 0. */
  bestRate: number;
  best?: DeliveryStep;
  /** The first failing step: where the profile is read. */
  firstFail?: DeliveryStep;
  warmUp: { elapsedMs: number; lostEvents: number; passes: number };
  /** Why the ramp stopped early, when a step could not run. */
  error?: string;
}
