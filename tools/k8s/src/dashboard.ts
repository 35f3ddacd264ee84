/**
 * The Grafana dashboard (k8s/monitoring/chat-dashboard.json) and the metric names its PromQL
 * uses. Check #4 (dashboard vs. what running services export) is `checkDashboardAgainstScrapes`:
 * it takes the text bodies of /metrics scrapes and reports every metric the dashboard queries
 * that no body exports.
 */
import { readFileSync } from 'node:fs';
import { DASHBOARD_JSON } from './paths.ts';
import { HISTOGRAMS } from './metrics-contract.ts';

interface Panel {
  type?: string;
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating?: { list?: Array<{ name: string; query?: unknown; definition?: string }> };
  [key: string]: unknown;
}

export function loadDashboard(path: string = DASHBOARD_JSON): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardExpressions(dashboard: Dashboard = loadDashboard()): string[] {
  const exprs: string[] = [];
  for (const p of allPanels(dashboard.panels)) for (const t of p.targets ?? []) if (t.expr) exprs.push(t.expr);
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    if (q && /\(/.test(q)) exprs.push(q);
  }
  return exprs;
}

// PromQL words that are not metric names: aggregation operators, keywords, set operators.
const KEYWORDS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'start', 'end',
]);

/**
 * Metric names (as written, suffixes kept) referenced by one PromQL expression. Label
 * matchers, grouping label lists, range/subquery brackets, strings, Grafana variables,
 * numbers and function names are removed first; Grafana's label_values(metric, label) is
 * understood too.
 */
export function metricNamesInExpr(expr: string): string[] {
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^{}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges, subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ') // label lists
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' '); // Grafana variables
  // label_values(metric, label): drop the label argument
  e = e.replace(/\blabel_values\s*\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)/g, ' $1 ');
  const names = new Set<string>();
  const re = /[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (let m = re.exec(e); m; m = re.exec(e)) {
    const word = m[0];
    const before = e.slice(0, m.index);
    if (/[0-9.]$/.test(before)) continue; // part of a number (1e3) or duration
    const after = e.slice(m.index + word.length);
    if (/^\s*\(/.test(after)) continue; // function call or aggregation
    if (KEYWORDS.has(word)) continue;
    if (/^(Inf|NaN|inf|nan)$/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/**
 * Base metric names: a series name ending in _bucket, _sum or _count is mapped to its histogram
 * (or summary) name, as `# TYPE` lines name it. _bucket always means a histogram; _sum and
 * _count are stripped only when the same base is also used as a histogram (<base>_bucket) or
 * when `histograms` lists the base, so a plain counter that happens to end in _count stays.
 */
export function baseMetricNames(names: Iterable<string>, histograms: Iterable<string> = []): string[] {
  const list = [...names];
  const known = new Set(histograms);
  for (const n of list) if (n.endsWith('_bucket')) known.add(n.slice(0, -'_bucket'.length));
  const out = new Set<string>();
  for (const n of list) {
    const m = /^(.*)_(bucket|sum|count)$/.exec(n);
    if (m && (m[2] === 'bucket' || known.has(m[1]!))) out.add(m[1]!);
    else out.add(n);
  }
  return [...out].sort();
}

/** The base names of every metric the dashboard queries (check #4 compares them to scrapes). */
export function dashboardMetricNames(dashboard: Dashboard = loadDashboard(), histograms: Iterable<string> = HISTOGRAMS): string[] {
  const raw = dashboardExpressions(dashboard).flatMap((e) => metricNamesInExpr(e));
  return baseMetricNames(raw, histograms);
}

/**
 * Metric base names exported by a Prometheus text-format body: names from `# TYPE` lines,
 * plus sample names (histogram/summary series mapped to their family).
 */
export function metricNamesFromExposition(body: string): string[] {
  const families = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of body.split('\n')) {
    const type = /^#\s*TYPE\s+([A-Za-z_:][A-Za-z0-9_:]*)\s+(\w+)/.exec(line);
    if (type) {
      families.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)/.exec(line);
    if (sample) samples.add(sample[1]!);
  }
  const out = new Set(families.keys());
  for (const s of samples) {
    const m = /^(.*)_(bucket|sum|count|created)$/.exec(s);
    const family = m && families.has(m[1]!) ? m[1]! : s;
    out.add(family);
  }
  return [...out].sort();
}

export interface ScrapeComparison {
  /** Queried by the dashboard, exported by none of the bodies. */
  missing: string[];
  /** Queried by the dashboard and exported. */
  present: string[];
}

/** Check #4: every metric the dashboard queries must be exported by at least one scrape body. */
export function checkDashboardAgainstScrapes(bodies: string[], dashboard: Dashboard = loadDashboard()): ScrapeComparison {
  const exported = new Set(bodies.flatMap((b) => metricNamesFromExposition(b)));
  const histograms = [...exported];
  const wanted = dashboardMetricNames(dashboard, histograms);
  return { missing: wanted.filter((n) => !exported.has(n)), present: wanted.filter((n) => exported.has(n)) };
}
