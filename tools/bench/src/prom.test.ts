import assert from 'node:assert/strict';
import { test } from 'node:test';
import { histogramWindow, parseLabels, readCounter, readHistogram } from './prom.js';

const scrape = (n201: number, sum201: number, le2: number, le3: number) => `# HELP chat_db_round_trips_per_request Database commands per request
# TYPE chat_db_round_trips_per_request histogram
chat_db_round_trips_per_request_bucket{le="1",route="/chat/send",method="POST",status="201"} 0
chat_db_round_trips_per_request_bucket{le="2",route="/chat/send",method="POST",status="201"} ${le2}
chat_db_round_trips_per_request_bucket{le="3",route="/chat/send",method="POST",status="201"} ${le3}
chat_db_round_trips_per_request_bucket{le="5",route="/chat/send",method="POST",status="201"} ${n201}
chat_db_round_trips_per_request_bucket{le="+Inf",route="/chat/send",method="POST",status="201"} ${n201}
chat_db_round_trips_per_request_sum{route="/chat/send",method="POST",status="201"} ${sum201}
chat_db_round_trips_per_request_count{route="/chat/send",method="POST",status="201"} ${n201}
chat_db_round_trips_per_request_bucket{le="1",route="GET /chat/sync",status="200"} 7
chat_db_round_trips_per_request_bucket{le="+Inf",route="GET /chat/sync",status="200"} 7
chat_db_round_trips_per_request_sum{route="GET /chat/sync",status="200"} 7
chat_db_round_trips_per_request_count{route="GET /chat/sync",status="200"} 7
chat_db_round_trips_per_request_total_other 3
`;

test('parseLabels unescapes quotes and keeps spaces', () => {
  assert.deepEqual(parseLabels('{route="POST /chat/send",msg="a \\"b\\"",le="+Inf"}'), { route: 'POST /chat/send', msg: 'a "b"', le: '+Inf' });
});

test('readHistogram picks the series by labels and ignores other series and metrics', () => {
  const h = readHistogram(scrape(10, 30, 0, 10), 'chat_db_round_trips_per_request', { route: '/chat/send', method: 'POST', status: '201' })!;
  assert.equal(h.count, 10);
  assert.equal(h.sum, 30);
  assert.deepEqual(h.buckets.map((b) => b.le), [1, 2, 3, 5, Number.POSITIVE_INFINITY]);
  assert.equal(readHistogram(scrape(1, 1, 0, 1), 'chat_missing_metric', {}), undefined);
  assert.equal(readHistogram(scrape(1, 1, 0, 1), 'chat_db_round_trips_per_request', { status: '500' }), undefined);
});

test('histogramWindow: mean is Δsum/Δcount, max is the smallest bucket holding every new observation', () => {
  const name = 'chat_db_round_trips_per_request';
  const labels = { route: '/chat/send', method: 'POST', status: '201' };
  const before = readHistogram(scrape(10, 30, 0, 10), name, labels);
  // 20 more sends: 5 took 2 round trips, 14 took 3, 1 took 4 or 5.
  const after = readHistogram(scrape(30, 30 + 5 * 2 + 14 * 3 + 5, 5, 29), name, labels)!;
  const w = histogramWindow(before, after)!;
  assert.equal(w.count, 20);
  assert.equal(w.mean, (5 * 2 + 14 * 3 + 5) / 20);
  assert.equal(w.maxLe, 5);
  assert.equal(histogramWindow(after, after), undefined);
  assert.equal(histogramWindow(undefined, after)!.count, 30);
});

test('readCounter sums the series whose labels match, by exact name, undefined when absent', () => {
  const text = `# TYPE chat_admission_shed_total counter
chat_admission_shed_total{reason="wait_budget",service="chat"} 12
chat_admission_shed_total{reason="queue_full",service="chat"} 3
chat_admission_shed_total_other{reason="wait_budget"} 100
chat_admission_in_flight{service="chat"} 64
`;
  assert.equal(readCounter(text, 'chat_admission_shed_total', { reason: 'wait_budget' }), 12);
  assert.equal(readCounter(text, 'chat_admission_shed_total'), 15);
  assert.equal(readCounter(text, 'chat_admission_in_flight'), 64);
  assert.equal(readCounter(text, 'chat_admission_shed_total', { reason: 'draining' }), undefined);
  assert.equal(readCounter(text, 'chat_admission_queued'), undefined);
});
