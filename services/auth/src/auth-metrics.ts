import { Counter, type Registry } from 'prom-client';

export type LoginResult = 'success' | 'invalid_credentials' | 'rate_limited';

/** The limits that refuse a request before any password is checked (login-limiter.ts's are `rate_limited` logins). */
export type LimitRefusal = 'address_attempts' | 'address_registrations' | 'bcrypt_capacity';

export interface AuthMetrics {
  loginAttempts: Counter<'result'>;
  registrations: Counter;
  limitRefusals: Counter<'limit'>;
}

/** The Auth series the Grafana dashboard reads; the names are a contract. */
export function createAuthMetrics(registry: Registry): AuthMetrics {
  const loginAttempts = new Counter({
    name: 'auth_login_attempts_total',
    help: 'Login attempts by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Start every result at 0 so rate() works before the first failure.
  for (const result of ['success', 'invalid_credentials', 'rate_limited'] satisfies LoginResult[]) loginAttempts.inc({ result }, 0);
  const registrations = new Counter({ name: 'auth_registrations_total', help: 'Users registered', registers: [registry] });
  const limitRefusals = new Counter({
    name: 'auth_limit_refusals_total',
    help: 'Logins and registrations refused by a per-address rate (429) or the bcrypt capacity (503), by limit',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  for (const limit of ['address_attempts', 'address_registrations', 'bcrypt_capacity'] satisfies LimitRefusal[]) limitRefusals.inc({ limit }, 0);
  return { loginAttempts, registrations, limitRefusals };
}
