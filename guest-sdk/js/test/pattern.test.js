// The SDK's glob matcher against the cases every SDK's matcher is held to
// (pattern/agreement.json, generated from the host's matcher), and the
// parts of the Pattern API the host's has too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { Pattern, PatternError, isGlob } from '../src/index.js';

const AGREEMENT = new URL('../../../pattern/agreement.json', import.meta.url);

test('every agreement case matches exactly the names the host matches', () => {
  const cases = JSON.parse(readFileSync(AGREEMENT, 'utf8'));
  assert.ok(cases.names.length > 0 && cases.patterns.length > 0, 'the agreement file has cases');
  const failures = [];
  for (const { pattern, matches } of cases.patterns) {
    const compiled = new Pattern(pattern);
    const got = cases.names.filter((name) => compiled.matches(name));
    if (JSON.stringify(got) !== JSON.stringify(matches)) {
      failures.push(`${JSON.stringify(pattern)}: matched ${JSON.stringify(got)}, the host ${JSON.stringify(matches)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('every pattern the host refuses is refused', () => {
  const cases = JSON.parse(readFileSync(AGREEMENT, 'utf8'));
  assert.ok(cases.refused.length > 0, 'the agreement file has refused patterns');
  for (const pattern of cases.refused) {
    assert.throws(() => new Pattern(pattern), PatternError, JSON.stringify(pattern));
  }
});

test('a refused pattern says which range is backwards', () => {
  assert.throws(() => new Pattern('[z-a]'), {
    name: 'PatternError',
    message: 'invalid pattern "[z-a]": invalid range z-a',
    pattern: '[z-a]',
  });
});

test('characters, not UTF-16 code units, are matched', () => {
  assert.ok(new Pattern('cl?').matches('clé'));
  assert.ok(new Pattern('?').matches('😀'), 'a character outside the BMP is one character');
  assert.ok(!new Pattern('??').matches('😀'));
  assert.ok(new Pattern('[😀-😂]').matches('😁'));
  assert.ok(new Pattern('[à-ü]').matches('é'));
});

test('stars backtrack without blowing up', () => {
  const name = 'a'.repeat(2000);
  const started = Date.now();
  assert.ok(!new Pattern(`${'*a'.repeat(30)}b`).matches(name));
  assert.ok(new Pattern('*a'.repeat(30)).matches(name));
  assert.ok(Date.now() - started < 2000, 'linear in pattern x name');
});

test('exact names, prefixes and the literal prefix', () => {
  const exact = new Pattern('prod/{x}');
  assert.ok(exact.isExact());
  assert.ok(exact.matches('prod/{x}') && !exact.matches('prod/x'));
  assert.equal(exact.literalPrefix(), 'prod/{x}');
  const prefix = new Pattern('db_*');
  assert.ok(!prefix.isExact());
  assert.equal(prefix.literalPrefix(), 'db_');
  assert.ok(prefix.matches('db_') && prefix.matches('db_x/y') && !prefix.matches('DB_x'));
  assert.equal(new Pattern('a?b*').literalPrefix(), 'a');
  assert.equal(new Pattern('*').literalPrefix(), '');
  const literal = Pattern.exact('a*b');
  assert.ok(literal.isExact() && literal.matches('a*b') && !literal.matches('axb'));
  assert.equal(String(new Pattern('x[ab]')), 'x[ab]');
  assert.equal(new Pattern('x[ab]').source, 'x[ab]');
  assert.ok(isGlob('a[') && isGlob('?') && !isGlob('a{b}'));
});

test('a pattern is a string', () => {
  assert.throws(() => new Pattern(7), TypeError);
});
