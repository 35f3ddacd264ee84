/**
 * Why an upgrade is refused, as one table: the reason is the `reason` label of
 * gateway_connections_rejected_total, and each maps to the HTTP status and error code the
 * client gets (PROTOCOL.md, "Connecting"). Several reasons share a status and code on purpose:
 * a client only needs to know whether to log in again (401), give up (403), close sockets it
 * no longer needs (429) or retry (503),
 * while an operator needs to know which of them is happening.
 */
import type { ErrorCode } from '@chat/common/contracts';

export const UPGRADE_REJECTIONS = {
  missing_token: { status: 401, code: 'unauthorized' },
  invalid_token: { status: 401, code: 'unauthorized' },
  expired_token: { status: 401, code: 'unauthorized' },
  origin: { status: 403, code: 'forbidden_origin' },
  user_limit: { status: 429, code: 'too_many_connections' },
  address_limit: { status: 429, code: 'too_many_connections' },
  auth_unavailable: { status: 503, code: 'unavailable' },
  draining: { status: 503, code: 'unavailable' },
} as const satisfies Record<string, { status: 401 | 403 | 429 | 503; code: ErrorCode }>;

export type UpgradeRejection = keyof typeof UPGRADE_REJECTIONS;

export const UPGRADE_REJECTION_REASONS = Object.keys(UPGRADE_REJECTIONS) as UpgradeRejection[];
