// Values: text or bytes with a version, never shown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';

import { BackendError, Value, toValue } from '../src/index.js';

test('text, bytes and versions', () => {
  const text = Value.text('s3cret', 'v1');
  assert.equal(text.text, 's3cret');
  assert.equal(text.version, 'v1');
  assert.ok(!text.isBytes);
  assert.deepEqual(text.toWit(), { value: { tag: 'text', val: 's3cret' }, version: 'v1' });
  const bytes = Value.bytes(new Uint8Array([0xfe, 0xff, 0x00]));
  assert.ok(bytes.isBytes);
  assert.equal(bytes.text, null);
  assert.equal(bytes.version, null);
  assert.deepEqual(bytes.toWit(), {
    value: { tag: 'bytes', val: new Uint8Array([0xfe, 0xff, 0x00]) },
    version: undefined,
  });
  assert.deepEqual(Value.text('a').withVersion('7').toWit().version, '7');
  assert.deepEqual([...Value.text('é').bytes], [0xc3, 0xa9]);
});

test('textOrBytes serves UTF-8 as text and anything else as bytes', () => {
  assert.equal(Value.textOrBytes(new TextEncoder().encode('café')).text, 'café');
  const binary = Value.textOrBytes(new Uint8Array([0xfe, 0xff, 0x6b, 0x65, 0x79, 0x00, 0x0a, 0x80]));
  assert.ok(binary.isBytes);
  assert.deepEqual([...binary.bytes], [0xfe, 0xff, 0x6b, 0x65, 0x79, 0x00, 0x0a, 0x80]);
});

test('bytes are copied, so later changes to the array do not reach the value', () => {
  const array = new Uint8Array([1, 2, 3]);
  const value = Value.bytes(array);
  array[0] = 9;
  assert.deepEqual([...value.bytes], [1, 2, 3]);
});

test('a value never shows its content', () => {
  const value = Value.text('hunter2', 'v3');
  for (const shown of [String(value), JSON.stringify(value), inspect(value), `${value}`]) {
    assert.ok(!shown.includes('hunter2'), shown);
    assert.ok(shown.includes('7 bytes') && shown.includes('v3'), shown);
  }
  assert.ok(!inspect(Value.bytes(new TextEncoder().encode('hunter2'))).includes('104'));
});

test('a version is a string', () => {
  assert.throws(() => Value.text('a', 7), TypeError);
  assert.throws(() => Value.text(7), TypeError);
  assert.throws(() => Value.bytes('a'), TypeError);
});

test('what get may return', () => {
  assert.deepEqual(toValue('a', 'get').toWit(), { value: { tag: 'text', val: 'a' }, version: undefined });
  assert.ok(toValue(new Uint8Array([1]), 'get').isBytes);
  assert.equal(toValue({ value: 'a', version: 'v' }, 'get').version, 'v');
  assert.equal(toValue({ value: 'a' }, 'get').version, null);
  assert.equal(toValue({ value: 'a', version: null }, 'get').version, null);
  const given = Value.text('a');
  assert.equal(toValue(given, 'get'), given);
});

test('anything else is a backend error naming its type, not its content', () => {
  for (const returned of [42, null, undefined, ['hunter2'], { value: 42 }, { value: 'hunter2', version: 7 }, { secret: 'hunter2' }]) {
    assert.throws(() => toValue(returned, 'get'), (e) => {
      assert.ok(e instanceof BackendError, String(e));
      assert.ok(e.message.startsWith("the provider's get returned"), e.message);
      assert.ok(!e.message.includes('hunter2'), e.message);
      return true;
    });
  }
});
