// The bindings (exportProvider) called as componentize-js calls them: with
// WIT-shaped arguments, expecting WIT-shaped results, and a thrown
// `{ tag, val }` for an `err`.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { AccessDenied, BackendError, ChangeSet, NotFound, Value, exportProvider } from '../src/index.js';

/** What a call gave: `{ ok }` or `{ err }`, awaiting a promise. */
async function outcome(call) {
  try {
    return { ok: await call() };
  } catch (err) {
    return { err };
  }
}

class Demo {
  constructor(config) {
    if (config.fail === 'backend') {
      throw new BackendError('asked to fail');
    }
    if (config.fail === 'type') {
      throw new TypeError('hunter2');
    }
    this.config = config;
  }

  get(name) {
    switch (name) {
      case 'text':
        return 'plain';
      case 'bytes':
        return new Uint8Array([0xfe, 0x00]);
      case 'versioned':
        return Value.text('v', 'tag1');
      case 'object':
        return { value: 'o', version: 'tag2' };
      case 'denied':
        throw new AccessDenied('denied by policy');
      case 'broken':
        throw new Error('hunter2');
      case 'wrong':
        return 42;
      case 'later':
        return Promise.resolve('resolved');
      case 'rejected':
        return Promise.reject(new RangeError('hunter2'));
      default:
        throw new NotFound(name);
    }
  }

  list(pattern) {
    return ['text', 'versioned', 'broken', 'missing', 'a*b'].filter((name) => pattern.matches(name));
  }
}

test('the module exports the resource class componentize-js expects', () => {
  const exported = exportProvider(Demo);
  assert.equal(typeof exported.Provider, 'function');
  assert.equal(typeof exported.Provider.create, 'function');
  for (const method of ['get', 'list', 'getMatching', 'changes']) {
    assert.equal(typeof exported.Provider.prototype[method], 'function', method);
  }
});

test('a class without get or list is refused when the component is built', () => {
  assert.throws(() => exportProvider(class { get() {} }), /has no list\(pattern\) method/);
  assert.throws(() => exportProvider(class { list() {} }), /has no get\(name\) method/);
  assert.throws(() => exportProvider(undefined), /default export must be the provider class, not undefined/);
});

test('create passes the config as a frozen object without a prototype', () => {
  const seen = {};
  const { Provider: Probe } = exportProvider(class {
    constructor(config) {
      seen.config = config;
    }
    get() {
      return '';
    }
    list() {
      return [];
    }
  });
  assert.ok(Probe.create([['file', '/x'], ['__proto__', 'y'], ['constructor', 'z']]) instanceof Probe);
  assert.equal(Object.getPrototypeOf(seen.config), null);
  assert.ok(Object.isFrozen(seen.config));
  assert.deepEqual(Object.entries(seen.config), [['file', '/x'], ['__proto__', 'y'], ['constructor', 'z']]);
});

test('a static create is used when there is one, and may be async', async () => {
  const { Provider } = exportProvider(class Made {
    static async create(config) {
      return new Made(config.greeting);
    }
    constructor(greeting) {
      this.greeting = greeting;
    }
    get() {
      return this.greeting;
    }
    list() {
      return [];
    }
  });
  const provider = await Provider.create([['greeting', 'hi']]);
  assert.deepEqual(provider.get('x'), { value: { tag: 'text', val: 'hi' }, version: undefined });
});

test('set-up errors', async () => {
  const { Provider } = exportProvider(Demo);
  assert.deepEqual(await outcome(() => Provider.create([['fail', 'backend']])), {
    err: { tag: 'backend', val: 'asked to fail' },
  });
  const { err } = await outcome(() => Provider.create([['fail', 'type']]));
  assert.equal(err.tag, 'backend');
  assert.match(err.val, /^the provider's create threw a TypeError/);
  assert.ok(!err.val.includes('hunter2'));
});

test('get serves text, bytes and versions', () => {
  const provider = exportProvider(Demo).Provider.create([]);
  assert.deepEqual(provider.get('text'), { value: { tag: 'text', val: 'plain' }, version: undefined });
  assert.deepEqual(provider.get('bytes'), {
    value: { tag: 'bytes', val: new Uint8Array([0xfe, 0x00]) },
    version: undefined,
  });
  assert.deepEqual(provider.get('versioned'), { value: { tag: 'text', val: 'v' }, version: 'tag1' });
  assert.deepEqual(provider.get('object'), { value: { tag: 'text', val: 'o' }, version: 'tag2' });
});

test('get errors become the WIT error, other exceptions a backend error without their message', async () => {
  const provider = exportProvider(Demo).Provider.create([]);
  assert.deepEqual(await outcome(() => provider.get('nope')), {
    err: { tag: 'not-found', val: 'nope not found' },
  });
  assert.deepEqual(await outcome(() => provider.get('denied')), {
    err: { tag: 'access-denied', val: 'denied by policy' },
  });
  for (const [name, start] of [
    ['broken', "the provider's get threw an Error"],
    ['wrong', "the provider's get returned a number"],
    ['rejected', "the provider's get threw a RangeError"],
  ]) {
    const { err } = await outcome(() => provider.get(name));
    assert.equal(err.tag, 'backend', name);
    assert.ok(err.val.startsWith(start), err.val);
    assert.ok(!err.val.includes('hunter2'), err.val);
  }
  assert.deepEqual(await provider.get('later'), { value: { tag: 'text', val: 'resolved' }, version: undefined });
});

test('list gets a compiled pattern; an invalid one is a backend error', async () => {
  const provider = exportProvider(Demo).Provider.create([]);
  assert.deepEqual(provider.list('*e*'), ['text', 'versioned', 'broken']);
  assert.deepEqual(provider.list('a[*]b'), ['a*b']);
  assert.deepEqual(await outcome(() => provider.list('[z-a]')), {
    err: { tag: 'backend', val: 'invalid pattern "[z-a]": invalid range z-a' },
  });
});

test('list must return names', async () => {
  for (const returned of [null, 'abc', [1], [{ name: 'hunter2' }]]) {
    const provider = exportProvider(class {
      get() {
        return '';
      }
      list() {
        return returned;
      }
    }).Provider.create([]);
    const { err } = await outcome(() => provider.list('*'));
    assert.equal(err.tag, 'backend');
    assert.ok(!err.val.includes('hunter2'), err.val);
  }
});

test('getMatching defaults to list and get, each name with its own error', () => {
  const provider = exportProvider(Demo).Provider.create([]);
  const matched = provider.getMatching('*');
  assert.deepEqual(matched.map((m) => m.name), ['text', 'versioned', 'broken', 'missing', 'a*b']);
  assert.deepEqual(matched[0].value, { tag: 'ok', val: { value: { tag: 'text', val: 'plain' }, version: undefined } });
  assert.deepEqual(matched[1].value.val.version, 'tag1');
  assert.equal(matched[2].value.tag, 'err');
  assert.match(matched[2].value.val.val, /^the provider's get threw an Error/);
  assert.deepEqual(matched[3].value, { tag: 'err', val: { tag: 'not-found', val: 'missing not found' } });
});

test('the default getMatching waits for async gets', async () => {
  const provider = exportProvider(class {
    async get(name) {
      if (name === 'b') {
        throw new NotFound(name);
      }
      return name.toUpperCase();
    }
    list() {
      return ['a', 'b'];
    }
  }).Provider.create([]);
  assert.deepEqual(await provider.getMatching('*'), [
    { name: 'a', value: { tag: 'ok', val: { value: { tag: 'text', val: 'A' }, version: undefined } } },
    { name: 'b', value: { tag: 'err', val: { tag: 'not-found', val: 'b not found' } } },
  ]);
});

test("a provider's own getMatching gives values or errors by name", async () => {
  const provider = exportProvider(class {
    get() {
      throw new Error('not called');
    }
    list() {
      throw new Error('not called');
    }
    getMatching(pattern) {
      return [
        { name: 'a', value: Value.text('A', 'v') },
        { name: 'b', error: new NotFound('b') },
        { name: 'c', error: new Error('hunter2') },
        { name: 'd', value: 42 },
      ].filter((entry) => pattern.matches(entry.name));
    }
  }).Provider.create([]);
  const matched = provider.getMatching('*');
  assert.deepEqual(matched[0], { name: 'a', value: { tag: 'ok', val: { value: { tag: 'text', val: 'A' }, version: 'v' } } });
  assert.deepEqual(matched[1], { name: 'b', value: { tag: 'err', val: { tag: 'not-found', val: 'b not found' } } });
  assert.equal(matched[2].value.tag, 'err');
  assert.ok(!matched[2].value.val.val.includes('hunter2'));
  assert.equal(matched[3].value.tag, 'err');
  assert.deepEqual(provider.getMatching('a'), [matched[0]]);
  const { err } = await outcome(() => exportProvider(class {
    get() {}
    list() {}
    getMatching() {
      return [{ value: 'hunter2' }];
    }
  }).Provider.create([]).getMatching('*'));
  assert.equal(err.tag, 'backend');
  assert.ok(!err.val.includes('hunter2'), err.val);
});

test('changes defaults to unknown', () => {
  const provider = exportProvider(Demo).Provider.create([]);
  assert.deepEqual(provider.changes([{ name: 'a', version: 'v' }], ['*']), { tag: 'unknown' });
});

test("a provider's changes gets held names with versions and compiled patterns", async () => {
  let seen;
  const provider = exportProvider(class {
    get() {}
    list() {}
    changes(held, patterns) {
      seen = { held, patterns };
      return ChangeSet.compare(held, [['a', 'v1'], ['c', 'v1']].filter(([name]) =>
        held.some((h) => h.name === name) || patterns.some((p) => p.matches(name))));
    }
  }).Provider.create([]);
  const answer = provider.changes([{ name: 'a', version: 'v1' }, { name: 'b', version: undefined }], ['c*']);
  assert.deepEqual(seen.held, [{ name: 'a', version: 'v1' }, { name: 'b', version: null }]);
  assert.ok(seen.patterns[0].matches('cat'));
  assert.deepEqual(answer, { tag: 'known', val: { changed: [], added: ['c'], gone: ['b'] } });
  assert.deepEqual(await outcome(() => provider.changes([], ['[z-a]'])), {
    err: { tag: 'backend', val: 'invalid pattern "[z-a]": invalid range z-a' },
  });
});
