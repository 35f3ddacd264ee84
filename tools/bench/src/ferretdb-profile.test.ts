import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFerretProfile, summarizePprofTop } from './ferretdb-profile.js';

const top = `File: ferretdb
Type: cpu
Duration: 45s, Total samples = 3.85s ( 8.56%)
Showing nodes accounting for 2.35s, 61.04% of 3.85s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      2.72s 70.65%  github.com/FerretDB/FerretDB/internal/clientconn.(*conn).run
     0.01s  0.26%  0.26%      1.42s 36.88%  github.com/FerretDB/FerretDB/internal/handler.(*Handler).MsgInsert
     0.81s 21.04% 21.82%      0.81s 21.04%  internal/runtime/syscall/linux.Syscall6
         0     0% 22.86%      0.79s 20.52%  github.com/FerretDB/FerretDB/internal/handler.(*Handler).MsgUpdate
         0     0% 34.55%      0.29s  7.53%  runtime.gcBgMarkWorker
      40ms  1.04% 58.44%       40ms  1.04%  github.com/FerretDB/FerretDB/internal/handler.(*Handler).MsgFind
`;

test('a pprof top listing becomes shares per command handler, system calls and GC', () => {
  const s = summarizePprofTop(top);
  assert.equal(s.sampledSeconds, 3.85);
  assert.deepEqual(s.handlers, [
    { name: 'MsgInsert', percent: 36.88 },
    { name: 'MsgUpdate', percent: 20.52 },
    { name: 'MsgFind', percent: 1.04 },
  ]);
  assert.equal(s.syscallsPercent, 21.04);
  assert.equal(s.gcPercent, 7.53);
  assert.match(describeFerretProfile({ file: 'f.pprof', seconds: 5, ...s }), /MsgInsert 37%, MsgUpdate 21%, MsgFind 1%.*21% in system calls.*8% in Go's garbage collector/);
});
