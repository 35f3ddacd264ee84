import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsSnapshot } from './metrics-snapshot.ts';

const TEXT = `# HELP http_request_duration_seconds x
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="1",route="/chat/send",method="POST",status="201"} 90
http_request_duration_seconds_bucket{le="1",route="/chat/send",method="POST",status="503"} 7
http_request_duration_seconds_count{route="/chat/send",method="POST",status="201"} 100
chat_admission_shed_total{reason="queue_full"} 5
chat_admission_shed_total{reason="wait_budget"} 2
nodejs_eventloop_lag_max_seconds 0.25
`;

test('a snapshot sums the series whose labels include the ones asked for; NaN when none matches', () => {
  const s = MetricsSnapshot.parse(TEXT, 42);
  assert.equal(s.at, 42);
  assert.equal(s.value('http_request_duration_seconds_bucket', { route: '/chat/send', le: '1' }), 97);
  assert.equal(s.value('http_request_duration_seconds_bucket', { status: '503' }), 7);
  assert.equal(s.value('chat_admission_shed_total'), 7);
  assert.equal(s.value('nodejs_eventloop_lag_max_seconds'), 0.25);
  assert.ok(Number.isNaN(s.value('chat_admission_shed_total', { reason: 'draining' })));
  assert.ok(Number.isNaN(s.value('no_such_metric')));
});
