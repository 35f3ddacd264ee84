/**
 * The Grafana dashboard: `dashboardMetricNames()` (input of check #4, which compares it with
 * scrapes of running services), the metric contract, the panels the issue asks for, and the
 * ConfigMap generated from the JSON.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderDashboardConfigMap } from './src/dashboard-configmap.ts';
import {
  baseMetricNames,
  checkDashboardAgainstScrapes,
  dashboardExpressions,
  dashboardMetricNames,
  loadDashboard,
  metricNamesFromExposition,
  metricNamesInExpr,
  type Dashboard,
} from './src/dashboard.ts';
import { parseManifests } from './src/helm.ts';
import { contractMetricNames, HISTOGRAMS, SERVICE_METRICS } from './src/metrics-contract.ts';
import { DASHBOARD_CONFIGMAP } from './src/paths.ts';

describe('metricNamesInExpr', () => {
  it('ignores functions, aggregations, label matchers, grouping labels, ranges and variables', () => {
    assert.deepEqual(
      metricNamesInExpr('histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{namespace=~"$namespace", status=~"5.."}[$__rate_interval])))'),
      ['http_request_duration_seconds_bucket'],
    );
    assert.deepEqual(
      metricNamesInExpr('sum(rate(a_total{x="by (y)"}[5m])) / ignoring(pod) group_left sum without (le) (b_count) + on(job) c offset 1h > bool 1e3'),
      ['a_total', 'b_count', 'c'],
    );
    assert.deepEqual(metricNamesInExpr('label_values(http_request_duration_seconds_count{service=~"auth|chat"}, namespace)'), ['http_request_duration_seconds_count']);
    assert.deepEqual(metricNamesInExpr('max(rate(x[5m:30s])) and up or vector(1)'), ['x', 'up']);
  });
});

describe('baseMetricNames', () => {
  it('maps histogram series to their family and keeps counters', () => {
    assert.deepEqual(baseMetricNames(['h_seconds_bucket', 'h_seconds_count', 'h_seconds_sum', 'req_total', 'g']), ['g', 'h_seconds', 'req_total']);
  });
  it('strips _count/_sum only for known histograms', () => {
    assert.deepEqual(baseMetricNames(['jobs_count', 'lat_sum']), ['jobs_count', 'lat_sum']);
    assert.deepEqual(baseMetricNames(['jobs_count', 'lat_sum'], ['lat']), ['jobs_count', 'lat']);
  });
});

describe('dashboardMetricNames', () => {
  it('returns the base names of every metric the dashboard queries', () => {
    const names = dashboardMetricNames();
    assert.deepEqual(names, [...names].sort(), 'sorted');
    for (const n of names) assert.doesNotMatch(n, /_(bucket|sum|count)$/, `${n} is a series name, not a base name`);
    for (const h of HISTOGRAMS) assert.ok(names.includes(h), `${h} (histogram) missing`);
  });

  it('uses only metrics of the services contract', () => {
    const contract = new Set(contractMetricNames());
    const unknown = dashboardMetricNames().filter((n) => !contract.has(n));
    assert.deepEqual(unknown, [], `not exported by any service: ${unknown.join(', ')}`);
  });

  it('covers every service-specific metric of the contract', () => {
    const names = new Set(dashboardMetricNames());
    const unused = Object.values(SERVICE_METRICS).flat().filter((n) => !names.has(n));
    assert.deepEqual(unused, []);
  });

  it('works on a dashboard given as an argument', () => {
    const d: Dashboard = { title: 't', uid: 'u', panels: [{ type: 'row', panels: [{ targets: [{ expr: 'sum(rate(x_seconds_count[1m]))' }, { expr: 'x_seconds_bucket' }] }] }] };
    assert.deepEqual(dashboardMetricNames(d), ['x_seconds']);
  });
});

describe('dashboard panels', () => {
  const d = loadDashboard();
  const exprs = dashboardExpressions(d).join('\n');
  const titles = JSON.stringify(d.panels.map((p: any) => p.title));

  it('has RED panels for each service', () => {
    for (const svc of ['auth', 'chat', 'gateway']) {
      assert.match(exprs, new RegExp(`http_request_duration_seconds_count\\{service="${svc}"`), `${svc} rate`);
      assert.match(exprs, new RegExp(`http_request_duration_seconds_count\\{service="${svc}".*status=~`), `${svc} errors`);
      assert.match(exprs, new RegExp(`histogram_quantile\\(0\\.99, sum by \\(le\\) \\(rate\\(http_request_duration_seconds_bucket\\{service="${svc}"`), `${svc} duration`);
    }
  });

  it('has sockets, events, delivery latency p50/p99, outbox backlog and login rate-limit panels', () => {
    for (const t of ['Open sockets', 'Events consumed / delivered / dropped', 'Delivery latency p50 / p99', 'Outbox backlog', 'Login rate-limit hits']) assert.ok(titles.includes(t), t);
    assert.match(exprs, /histogram_quantile\(0\.50, .*gateway_delivery_latency_seconds_bucket/);
    assert.match(exprs, /histogram_quantile\(0\.99, .*gateway_delivery_latency_seconds_bucket/);
    assert.match(exprs, /auth_login_attempts_total\{[^}]*result="rate_limited"/);
  });

  it("has issue 16's limits: Auth refusals by limit, rejected upgrades and closed sockets by reason", () => {
    for (const t of ['Auth refusals by limit', 'Rejected upgrades by reason', 'Sockets closed by reason']) assert.ok(titles.includes(t), t);
    // By label, so each limit (address_attempts, address_registrations, bcrypt_capacity), each
    // refusal (user_limit, address_limit, …) and each close (invalid_utf8, …) is a line of its own.
    assert.match(exprs, /sum by \(limit\) \(rate\(auth_limit_refusals_total\{/);
    assert.match(exprs, /sum by \(reason\) \(rate\(gateway_connections_rejected_total\{/);
    assert.match(exprs, /sum by \(reason\) \(rate\(gateway_sockets_closed_total\{/);
  });

  it("has issue 17's row: in flight vs the limit, queued, shed by reason and the wait p99, for Chat and Auth, with the outage beside them", () => {
    const row = d.panels.findIndex((p: any) => p.type === 'row' && p.title === 'Overload and admission');
    assert.ok(row >= 0, 'the row "Overload and admission"');
    const next = d.panels.findIndex((p: any, i: number) => i > row && p.type === 'row');
    const inRow = d.panels.slice(row + 1, next < 0 ? undefined : next) as any[];
    const exprsOf = (title: string) => (inRow.find((p) => p.title === title)?.targets ?? []).map((t: any) => t.expr).join('\n');
    for (const svc of ['chat', 'auth']) {
      assert.match(exprsOf('Requests in flight vs the limit'), new RegExp(`sum by \\(pod\\) \\(${svc}_admission_in_flight\\{`), `${svc} in flight`);
      assert.match(exprsOf('Requests in flight vs the limit'), new RegExp(`${svc}_admission_limit\\{`), `${svc} limit`);
      assert.match(exprsOf('Requests waiting for a slot'), new RegExp(`sum by \\(pod\\) \\(${svc}_admission_queued\\{`), `${svc} queued`);
      // By reason, so queue_full, wait_budget and draining are each a line of their own.
      assert.match(exprsOf('Shed / s by reason'), new RegExp(`sum by \\(reason\\) \\(rate\\(${svc}_admission_shed_total\\{`), `${svc} shed`);
      assert.match(exprsOf('Admission wait p99 (requests that waited)'), new RegExp(`histogram_quantile\\(0\\.99, sum by \\(le\\) \\(rate\\(${svc}_admission_wait_seconds_bucket\\{`), `${svc} wait p99`);
    }
    assert.match(exprsOf('Database outage: pods refusing database work'), /chat_database_unavailable/);
    assert.match(exprsOf('chat: 503s / s by route'), /status="503"/);
  });

  it('lays panels out without overlaps', () => {
    const cells = new Map<string, string>();
    for (const p of d.panels as any[]) {
      const { x, y, w, h } = p.gridPos;
      for (let row = y; row < y + h; row++)
        for (let col = x; col < x + w; col++) {
          const key = `${col},${row}`;
          assert.ok(!cells.has(key), `${p.title} overlaps ${cells.get(key)}`);
          cells.set(key, p.title);
        }
    }
  });

  it('queries through the datasource variable with unique panel ids', () => {
    const ids = new Set<number>();
    const walk = (ps: any[]): void => {
      for (const p of ps) {
        assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
        ids.add(p.id);
        if (p.type !== 'row') assert.equal(p.datasource.uid, '${datasource}', p.title);
        walk(p.panels ?? []);
      }
    };
    walk(d.panels);
  });
});

describe('dashboard ConfigMap', () => {
  it('is generated from the JSON (run `node --import tsx tools/k8s/src/dashboard-configmap.ts --write`)', () => {
    assert.equal(readFileSync(DASHBOARD_CONFIGMAP, 'utf8'), renderDashboardConfigMap());
  });

  it('carries the grafana_dashboard: "1" label and the JSON byte for byte', () => {
    const [cm] = parseManifests(readFileSync(DASHBOARD_CONFIGMAP, 'utf8')) as any[];
    assert.equal(cm.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(cm.data['chat-dashboard.json']), loadDashboard());
  });
});

describe('check #4: dashboard vs scraped metrics', () => {
  /** A /metrics body as prom-client writes it, for the given families. */
  function body(families: Array<[string, 'counter' | 'gauge' | 'histogram']>): string {
    return families
      .map(([name, type]) => {
        const head = `# HELP ${name} x\n# TYPE ${name} ${type}\n`;
        if (type === 'histogram') return `${head}${name}_bucket{le="0.1",service="s"} 1\n${name}_bucket{le="+Inf",service="s"} 1\n${name}_sum{service="s"} 0.05\n${name}_count{service="s"} 1\n`;
        return `${head}${name}{service="s"} 1\n`;
      })
      .join('');
  }
  const type = (n: string): 'counter' | 'gauge' | 'histogram' =>
    (HISTOGRAMS as readonly string[]).includes(n) ? 'histogram' : n.endsWith('_total') ? 'counter' : 'gauge';

  it('metricNamesFromExposition reads families and samples', () => {
    assert.deepEqual(metricNamesFromExposition(body([['a_seconds', 'histogram'], ['b_total', 'counter']]) + 'untyped_metric 3\n'), ['a_seconds', 'b_total', 'untyped_metric']);
  });

  it('passes when the scraped bodies export every dashboard metric', () => {
    const all = contractMetricNames();
    const bodies = [
      body(all.filter((n) => !n.startsWith('gateway_') && !n.startsWith('chat_')).map((n) => [n, type(n)])),
      body(all.filter((n) => n.startsWith('chat_')).map((n) => [n, type(n)])),
      body(all.filter((n) => n.startsWith('gateway_')).map((n) => [n, type(n)])),
    ];
    assert.deepEqual(checkDashboardAgainstScrapes(bodies).missing, []);
  });

  it('reports the metrics no scrape exports', () => {
    const all = contractMetricNames().filter((n) => n !== 'chat_outbox_backlog' && n !== 'gateway_delivery_latency_seconds');
    const res = checkDashboardAgainstScrapes([body(all.map((n) => [n, type(n)]))]);
    assert.deepEqual(res.missing, ['chat_outbox_backlog', 'gateway_delivery_latency_seconds']);
  });
});
