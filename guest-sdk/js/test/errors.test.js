// The error classes and how a thrown value becomes the WIT `error`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AccessDenied, BackendError, NotFound, ProviderError, toWitError } from '../src/index.js';

test('the SDK errors keep their case and message', () => {
  assert.deepEqual(toWitError(new NotFound('db/password'), 'get'), {
    tag: 'not-found',
    val: 'db/password not found',
  });
  assert.deepEqual(toWitError(new BackendError('etcd is down'), 'get'), {
    tag: 'backend',
    val: 'etcd is down',
  });
  assert.deepEqual(toWitError(new AccessDenied('role billing may not read x'), 'get'), {
    tag: 'access-denied',
    val: 'role billing may not read x',
  });
});

test('errors are Errors with their kind, name and secret', () => {
  const e = new NotFound('x');
  assert.ok(e instanceof ProviderError && e instanceof Error);
  assert.equal(e.kind, 'not-found');
  assert.equal(e.name, 'NotFound');
  assert.equal(e.secret, 'x');
  assert.equal(new BackendError('m').kind, 'backend');
  assert.equal(new AccessDenied('m').kind, 'access-denied');
  assert.throws(() => new ProviderError('nope', 'm'), TypeError);
});

test('a subclass of an SDK error keeps its case', () => {
  class EtcdDown extends BackendError {}
  assert.deepEqual(toWitError(new EtcdDown('etcd is down'), 'list'), {
    tag: 'backend',
    val: 'etcd is down',
  });
});

test('a cause is never sent to the host', () => {
  const e = new BackendError('request failed', { cause: new Error('hunter2') });
  assert.deepEqual(toWitError(e, 'get'), { tag: 'backend', val: 'request failed' });
});

test('any other exception names its class only, never its message', () => {
  const cases = [
    [new TypeError('the password is hunter2'), "the provider's get threw a TypeError"],
    [new (class VaultFailure extends Error {})('hunter2'), "the provider's get threw a VaultFailure"],
    ['hunter2', "the provider's get threw a string"],
    [42, "the provider's get threw a number"],
    [null, "the provider's get threw null"],
    [undefined, "the provider's get threw undefined"],
    [{ tag: 'not-found', val: 'hunter2' }, "the provider's get threw an Object"],
    [Object.assign(Object.create(null), { message: 'hunter2' }), "the provider's get threw an object"],
  ];
  for (const [thrown, start] of cases) {
    const error = toWitError(thrown, 'get');
    assert.equal(error.tag, 'backend');
    assert.ok(error.val.startsWith(start), `${error.val} starts with ${start}`);
    assert.ok(!error.val.includes('hunter2'), error.val);
  }
});

test('a class name that is not an identifier is not shown', () => {
  const thrown = new (class {})();
  Object.defineProperty(thrown.constructor, 'name', { value: 'hunter2 and more' });
  const error = toWitError(thrown, 'create');
  assert.ok(!error.val.includes('hunter2'), error.val);
  assert.ok(error.val.startsWith("the provider's create threw an object"), error.val);
});

test('a hostile error object cannot break the mapping', () => {
  const thrown = new Proxy({}, {
    get() {
      throw new Error('hunter2');
    },
    getPrototypeOf() {
      throw new Error('hunter2');
    },
  });
  const error = toWitError(thrown, 'get');
  assert.equal(error.tag, 'backend');
  assert.ok(!error.val.includes('hunter2'), error.val);
});

test("the engine's out-of-memory string is named as such", () => {
  assert.deepEqual(toWitError('out of memory', 'create'), {
    tag: 'backend',
    val: "the provider's create ran out of memory (the JavaScript engine's; limits.memory_mb)",
  });
});
