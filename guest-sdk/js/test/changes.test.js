// ChangeSet.compare and what `changes` may return.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BackendError, ChangeSet, toWitChanges } from '../src/index.js';

const held = (name, version) => ({ name, version });

test('compare reports changed, added and gone', () => {
  const set = ChangeSet.compare(
    [held('same', '1'), held('newer', '1'), held('unversioned', null), held('deleted', '1')],
    [
      ['same', '1'],
      ['newer', '2'],
      ['unversioned', '1'],
      ['fresh', null],
      ['fresh', null],
      ['same', '1'],
    ],
  );
  assert.deepEqual(set.changed, ['newer', 'unversioned']);
  assert.deepEqual(set.added, ['fresh']);
  assert.deepEqual(set.gone, ['deleted']);
  assert.ok(!set.isEmpty());
});

test('an unknown current version is a change', () => {
  const set = ChangeSet.compare([held('a', '1')], [['a', null]]);
  assert.deepEqual(set.changed, ['a']);
});

test('a held name given twice is reported once', () => {
  const set = ChangeSet.compare([held('a', '1'), held('a', '1'), held('b', '1'), held('b', '1')], [['a', '1']]);
  assert.deepEqual(set, new ChangeSet({ gone: ['b'] }));
});

test('nothing changed', () => {
  const set = ChangeSet.compare([held('a', '1')], [['a', '1']]);
  assert.ok(set.isEmpty());
  assert.deepEqual(toWitChanges(set), { tag: 'known', val: { changed: [], added: [], gone: [] } });
});

test('null is unknown; a change set or its lists are known', () => {
  assert.deepEqual(toWitChanges(null), { tag: 'unknown' });
  assert.deepEqual(toWitChanges(undefined), { tag: 'unknown' });
  assert.deepEqual(toWitChanges({ changed: new Set(['a']) }), {
    tag: 'known',
    val: { changed: ['a'], added: [], gone: [] },
  });
  for (const bad of [7, 'a', { changed: 'a' }, { gone: [1] }]) {
    assert.throws(() => toWitChanges(bad), BackendError);
  }
});
