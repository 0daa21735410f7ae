import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseRestartPolicy, healthSettingsOf, nextBackoff, policyRestarts, policyRestartsAtBoot, validateHealthcheck, formatGoDuration,
} from '../../../src/engine/supervision/index.js';
import { eventMatches, parseEventTime, validateEventFilters } from '../../../src/api/routes/events.js';
import type { EngineEvent } from '../../../src/engine/index.js';

test('restart policies are checked with dockerd\'s messages', () => {
  assert.deepEqual(parseRestartPolicy(undefined), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy({ Name: '' }), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 5 }), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.throws(() => parseRestartPolicy({ Name: 'sometimes' }), /unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/);
  assert.throws(() => parseRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), /maximum retry count cannot be negative/);
  assert.throws(() => parseRestartPolicy({ Name: 'always', MaximumRetryCount: -1 }), /can only be used with 'on-failure' and cannot be negative/);
});

test('the policy decides after an exit; a user stop always wins', () => {
  const onFailure2 = { Name: 'on-failure' as const, MaximumRetryCount: 2 };
  assert.equal(policyRestarts(onFailure2, 1, 0, false), true);
  assert.equal(policyRestarts(onFailure2, 1, 2, false), false);
  assert.equal(policyRestarts(onFailure2, 0, 0, false), false);
  assert.equal(policyRestarts({ Name: 'always', MaximumRetryCount: 0 }, 0, 99, false), true);
  assert.equal(policyRestarts({ Name: 'always', MaximumRetryCount: 0 }, 0, 0, true), false);
  assert.equal(policyRestarts({ Name: 'no', MaximumRetryCount: 0 }, 1, 0, false), false);
  // At hakod's start: always even after a user stop; unless-stopped not after one.
  assert.equal(policyRestartsAtBoot({ Name: 'always', MaximumRetryCount: 0 }, 0, true), true);
  assert.equal(policyRestartsAtBoot({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 143, true), false);
  assert.equal(policyRestartsAtBoot({ Name: 'unless-stopped', MaximumRetryCount: 0 }, 143, false), true);
});

test('backoff starts at 100 ms, doubles up to a minute, and resets after 10 s up', () => {
  let b = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) seen.push((b = nextBackoff(b, 50)));
  assert.deepEqual(seen.slice(0, 5), [100, 200, 400, 800, 1600]);
  assert.equal(seen[11], 60_000);
  assert.equal(nextBackoff(60_000, 10_000), 100);
});

test('health settings: docker\'s defaults, CMD-SHELL through /bin/sh -c, NONE disables', () => {
  const s = healthSettingsOf({ Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'] } });
  assert.deepEqual(s, { argv: ['/bin/sh', '-c', 'curl -f localhost'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3, onFailure: 'none' });
  assert.equal(healthSettingsOf({ Healthcheck: { Test: ['NONE'] } }), null);
  assert.equal(healthSettingsOf({}), null);
  assert.equal(healthSettingsOf({ Healthcheck: { Test: ['CMD', 'true'] }, Labels: { 'io.hako.health.on-failure': 'kill' } })?.onFailure, 'kill');
  assert.throws(() => validateHealthcheck({ Test: ['CMD', 'x'], Timeout: 10 }), /Timeout in Healthcheck cannot be less than 1ms/);
  assert.throws(() => validateHealthcheck({ Test: ['SHELL', 'x'] }), /unknown type in Healthcheck Test/);
  assert.equal(formatGoDuration(1500), '1.5s');
  assert.equal(formatGoDuration(200), '200ms');
  assert.equal(formatGoDuration(90_000), '1m30s');
});

const ev = (over: Partial<EngineEvent> & { attrs?: Record<string, string> }): EngineEvent => ({
  Type: over.Type ?? 'container', Action: over.Action ?? 'start',
  Actor: { ID: over.Actor?.ID ?? 'abc123', Attributes: over.attrs ?? { name: 'web', image: 'busybox:latest' } },
  scope: 'local', time: 1, timeNano: 1_000_000_000,
});

test('event filters follow docker: names and ids by prefix, health_status by prefix, labels all needed', () => {
  assert.equal(eventMatches(ev({}), { container: ['we'] }), true);
  assert.equal(eventMatches(ev({}), { container: ['abc'] }), true);
  assert.equal(eventMatches(ev({}), { container: ['db'] }), false);
  assert.equal(eventMatches(ev({ Type: 'image', attrs: { name: 'web' } }), { container: ['web'] }), false);
  assert.equal(eventMatches(ev({ Action: 'health_status: healthy' }), { event: ['health_status'] }), true);
  assert.equal(eventMatches(ev({ Action: 'die' }), { event: ['start', 'die'] }), true);
  assert.equal(eventMatches(ev({ Action: 'died' }), { event: ['die'] }), false);
  assert.equal(eventMatches(ev({}), { image: ['busybox'] }), true);
  assert.equal(eventMatches(ev({}), { type: ['image'] }), false);
  assert.equal(eventMatches(ev({ attrs: { name: 'web', a: '1', b: '2' } }), { label: ['a=1', 'b'] }), true);
  assert.equal(eventMatches(ev({ attrs: { name: 'web', a: '1' } }), { label: ['a=1', 'b'] }), false);
  assert.throws(() => validateEventFilters({ colour: ['x'] }), /invalid filter 'colour'/);
  assert.equal(parseEventTime('1700000000.5', 'since'), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime(null, 'since'), null);
  assert.throws(() => parseEventTime('yesterday', 'since'), /not a unix timestamp/);
});
