import { Counter, type Registry } from 'prom-client';

export type LoginResult = 'success' | 'invalid_credentials' | 'rate_limited';

export interface AuthMetrics {
  loginAttempts: Counter<'result'>;
  registrations: Counter;
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
  return { loginAttempts, registrations };
}
