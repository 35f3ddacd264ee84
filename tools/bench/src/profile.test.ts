import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryShares, describeTop, stackShare, topInclusive, topSelfTime, type CpuProfile } from './profile.js';

// root → main → { send (uws), parse (JSON) }, plus (idle) and (garbage collector).
const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('deliver', 'file:///work/main/services/gateway/src/delivery.ts'), children: [3, 4] },
    { id: 3, callFrame: frame('send', 'file:///x/node_modules/uWebSockets.js/uws.js') },
    { id: 4, callFrame: frame('parse') },
    { id: 5, callFrame: frame('(idle)') },
    { id: 6, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1_000,
  endTime: 2_000,
  // 10 samples, 100 µs apart: t = 1100 … 2000
  samples: [3, 3, 3, 4, 5, 5, 3, 4, 6, 2],
  timeDeltas: Array(10).fill(100),
};

test('top self time excludes idle from the denominator', () => {
  const top = topSelfTime(profile);
  assert.equal(top.busySamples, 8);
  assert.equal(top.idleShare, 0.2);
  assert.equal(top.entries[0]!.label, 'send (uWebSockets.js/uws.js:1)');
  assert.equal(top.entries[0]!.share, 4 / 8);
  assert.match(describeTop(top.entries, 2), /^send .* 50\.0%; parse 25\.0%$/);
});

test('a time window selects only its samples', () => {
  const top = topSelfTime(profile, { fromUs: 1_050, toUs: 1_350 }); // samples at 1100, 1200, 1300
  assert.equal(top.busySamples, 3);
  assert.equal(top.entries.length, 1);
  assert.equal(top.entries[0]!.share, 1);
});

test('categories match the stack nearest the leaf first; gc is its own category', () => {
  const { shares, busySamples } = categoryShares(profile, [
    { name: 'uws', match: (f) => f.url.includes('uWebSockets') },
    { name: 'gateway', match: (f) => f.url.includes('services/gateway') },
  ]);
  assert.equal(busySamples, 8);
  assert.equal(shares.uws, 4 / 8);
  assert.equal(shares.gateway, 3 / 8); // parse ×2 under deliver, deliver itself ×1
  assert.equal(shares.gc, 1 / 8);
});

test('only main-thread profiles are read (under --import tsx the loader thread writes one too)', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { profilesIn } = await import('./profile.js');
  const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
  for (const f of ['CPU.20261123.231414.13721.0.001.cpuprofile', 'CPU.20261123.231414.13721.1.002.cpuprofile', 'notes.txt']) writeFileSync(join(dir, f), '{}');
  assert.deepEqual(profilesIn(dir), [join(dir, 'CPU.20261123.231414.13721.0.001.cpuprofile')]);
});

test('topInclusive: the kept functions by the share of busy samples whose stack holds them', () => {
  const gatewayCode = (f: { url: string }) => f.url.includes('services/gateway');
  const top = topInclusive(profile, undefined, gatewayCode);
  // deliver is on the stack of every sample but idle and gc: send ×4, parse ×2, itself ×1.
  assert.deepEqual(top, [{ label: 'deliver (services/gateway/src/delivery.ts:1)', share: 7 / 8 }]);
  assert.deepEqual(topInclusive(profile, undefined, () => false), []);
});

test('stack share counts a sample once when a kept frame is anywhere on its stack', () => {
  // deliver (gateway file) holds send ×4, parse ×2 and its own sample: 7 of 8 busy samples.
  const all = stackShare(profile, undefined, (f) => f.url.includes('services/gateway/src'));
  assert.equal(all.busySamples, 8);
  assert.equal(all.share, 7 / 8);
  assert.equal(stackShare(profile, undefined, (f) => f.functionName === 'parse').share, 2 / 8);
  assert.equal(stackShare(profile, { fromUs: 0, toUs: 1 }, () => true).share, 0);
});
