/** CpuSampler on real processes: this one burning CPU, and a child that is counted in its parent's tree only. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { CpuSampler } from './process-cpu.ts';

const burn = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) Math.sqrt(Math.random());
};

test('cores of a busy process, of a tree, and none across a restart', async () => {
  const child = spawn(process.execPath, ['-e', 'const e = Date.now() + 1500; while (Date.now() < e) Math.sqrt(Math.random());']);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let pid = process.pid;
  const cpu = new CpuSampler(100);
  cpu.add('self', () => [process.pid], false);
  cpu.add('tree', () => [process.pid]);
  cpu.add('replaced', () => [pid], false);
  const from = Date.now();
  const usage = process.cpuUsage();
  cpu.start();
  await new Promise((r) => setTimeout(r, 50));
  pid = child.pid!; // a "restart": another process under the same name
  for (let i = 0; i < 8; i++) {
    burn(100);
    await new Promise((r) => setTimeout(r, 0)); // let the sampler run
  }
  await exited;
  cpu.stop();
  const to = Date.now();
  const used = process.cpuUsage(usage);
  // Node's own account of this process's CPU over the same window (the machine may be busy, so
  // compare with it rather than with the time spent burning).
  const expected = (used.user + used.system) / 1e6 / ((to - from) / 1000);
  const self = cpu.cores('self', from, to)!;
  const tree = cpu.cores('tree', from, to)!;
  assert.ok(Math.abs(self - expected) <= 0.05 + 0.3 * expected, `this process: ${self.toFixed(3)} cores sampled, ${expected.toFixed(3)} by process.cpuUsage`);
  assert.ok(tree > self, `its tree counts the busy child too: ${tree} vs ${self}`);
  assert.ok(cpu.cores('replaced', from, to)! < tree, 'no delta is taken across the change of pid');
});
