import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStat, parseTcpExt, processTree, treeCpuSeconds, type ProcStat } from './proc.js';

test('parseStat reads pid, parent, a name with spaces and parentheses, and CPU in seconds', () => {
  const line = '4242 (postgres: bench (x)) S 4200 4200 4200 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 1 0 100 0 0';
  assert.deepEqual(parseStat(line, 100), { pid: 4242, ppid: 4200, comm: 'postgres: bench (x)', cpu: 3, childCpu: 0.5 });
  assert.equal(parseStat('garbage'), undefined);
});

const proc = (pid: number, ppid: number, cpu: number, childCpu = 0, comm = 'postgres'): [number, ProcStat] => [pid, { pid, ppid, comm, cpu, childCpu }];

test('processTree walks every descendant of the roots and nothing else', () => {
  const table = new Map([proc(1, 0, 0, 0, 'init'), proc(10, 1, 1, 0, 'ferretdb'), proc(20, 1, 1), proc(21, 20, 1), proc(22, 20, 1), proc(23, 22, 1), proc(30, 1, 5, 0, 'other')]);
  assert.deepEqual(processTree([10, 20], table), [10, 20, 21, 22, 23]);
  assert.deepEqual(processTree([99], table), []);
});

test('treeCpuSeconds counts a backend that exits between readings once (its CPU moves to the parent)', () => {
  const before = new Map([proc(1, 0, 0), proc(20, 1, 2, 0), proc(21, 20, 0.5)]);
  // Backend 21 used 0.25 s more, then exited and was reaped: the postmaster's cutime holds its 0.75 s.
  const after = new Map([proc(1, 0, 0), proc(20, 1, 2.1, 0.75), proc(22, 20, 0.05)]);
  const used = treeCpuSeconds([20], after).total - treeCpuSeconds([20], before).total;
  assert.ok(Math.abs(used - (0.1 + 0.25 + 0.05)) < 1e-9, String(used));
  assert.deepEqual(Object.keys(treeCpuSeconds([20], after).byComm), ['postgres']);
});

test('parseTcpExt pairs the TcpExt header line with its values, and ignores the other protocols', () => {
  const text = 'TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 3 165014 165020\nMPTcpExt: ListenOverflows\nMPTcpExt: 0\n';
  assert.deepEqual(parseTcpExt(text), { SyncookiesSent: 3, ListenOverflows: 165014, ListenDrops: 165020 });
  assert.deepEqual(parseTcpExt('IpExt: A\nIpExt: 1\n'), {});
});
