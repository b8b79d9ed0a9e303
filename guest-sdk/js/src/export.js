// The bindings: a provider class exported as the `provider` resource of
// processpype:secrets/provider@0.2.0 (wit/provider.wit), in the shape
// componentize-js expects (`export const provider = { Provider }`).
//
// Every call of the provider goes through here, and nothing it throws
// reaches componentize-js as it is: componentize-js turns a thrown
// `{ tag, val }` into the WIT `err`, but traps on anything else (and writes
// the exception, message included, to stderr, which the host logs). So the
// SDK's errors become their WIT case with their message, and any other
// exception a `backend` error that names only its class.

import { BackendError, describeWithArticle, toWitError } from './errors.js';
import { Pattern, PatternError } from './pattern.js';
import { toValue } from './value.js';
import { toWitChanges } from './changes.js';

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function';
}

/**
 * Calls `call`, converts what it returns with `convert`, and turns anything
 * thrown into the WIT error of `what`. A provider method may be `async`:
 * then this returns a promise, which componentize-js runs to completion
 * within the call.
 */
function run(what, call, convert) {
  let result;
  try {
    result = call();
  } catch (e) {
    throw toWitError(e, what);
  }
  const finish = (value) => {
    try {
      return convert(value);
    } catch (e) {
      throw toWitError(e, what);
    }
  };
  if (isThenable(result)) {
    return Promise.resolve(result).then(finish, (e) => {
      throw toWitError(e, what);
    });
  }
  return finish(result);
}

/** Like {@link run}, but an error is returned as `{ tag: 'err' }`. */
function settle(what, call, convert) {
  try {
    const result = run(what, call, convert);
    if (isThenable(result)) {
      return result.then(
        (val) => ({ tag: 'ok', val }),
        (val) => ({ tag: 'err', val }),
      );
    }
    return { tag: 'ok', val: result };
  } catch (val) {
    return { tag: 'err', val };
  }
}

/** `items` (maybe promises) as an array, or a promise of one. */
function all(items) {
  return items.some(isThenable) ? Promise.all(items) : items;
}

/** The host's pattern, compiled; an invalid one is a backend error. */
function compile(text) {
  try {
    return new Pattern(text);
  } catch (e) {
    if (e instanceof PatternError) {
      throw new BackendError(e.message);
    }
    throw e;
  }
}

/** What `list` returned, as an array of names. */
function names(returned, what) {
  if (returned === null || typeof returned !== 'object' ||
      typeof returned[Symbol.iterator] !== 'function') {
    throw new BackendError(
      `the provider's ${what} returned ${describeWithArticle(returned)}, not a list of names`,
    );
  }
  const list = [...returned];
  for (const name of list) {
    if (typeof name !== 'string') {
      throw new BackendError(
        `the provider's ${what} returned a list holding ${describeWithArticle(name)}, not only names`,
      );
    }
  }
  return list;
}

/** The backend's `config` (a list of pairs) as a frozen object. */
function configObject(pairs) {
  const config = Object.create(null);
  for (const [key, value] of pairs) {
    config[key] = value;
  }
  return Object.freeze(config);
}

/**
 * Exports `ProviderClass` as the component's provider. The build command
 * (`pp-secrets-provider build`) calls this for the class a provider module
 * exports by default; call it yourself only when building with
 * componentize-js directly (`export const provider = exportProvider(MyProvider)`).
 *
 * The class:
 * - is set up from the backend's `config` (a frozen object of strings) by
 *   `static create(config)` when it has one, else by `new ProviderClass(config)`;
 * - has `get(name)`, returning a string (text), a `Uint8Array` (bytes), a
 *   `Value` or `{ value, version }`, and throwing `NotFound` when there is
 *   no such secret;
 * - has `list(pattern)`, returning the names matching the `Pattern`;
 * - may have `getMatching(pattern)`, returning `{ name, value }` (a value
 *   as `get` returns one) or `{ name, error }` entries; by default `list`,
 *   then `get` for each name, each name with its own error;
 * - may have `changes(held, patterns)`, with `held` a list of
 *   `{ name, version }` (`version` a string or `null`) and `patterns` a list
 *   of `Pattern`, returning a `ChangeSet` (or `{ changed, added, gone }`),
 *   or `null` when it cannot tell; by default `null`, and the host re-reads.
 *
 * Any method may be `async`. Throw `NotFound`, `BackendError` or
 * `AccessDenied` for errors; any other exception becomes a backend error
 * that names its class only (`TypeError`), never its message or stack,
 * which could hold a secret value.
 *
 * @param {Function} ProviderClass
 * @returns {{ Provider: Function }} the value to export as `provider`
 */
export function exportProvider(ProviderClass) {
  if (typeof ProviderClass !== 'function') {
    throw new TypeError(
      `a provider module's default export must be the provider class, not ${describeWithArticle(ProviderClass)}`,
    );
  }
  const label = ProviderClass.name || 'the provider class';
  for (const method of ['get', 'list']) {
    if (typeof ProviderClass.prototype?.[method] !== 'function') {
      throw new TypeError(`${label} has no ${method}(${method === 'get' ? 'name' : 'pattern'}) method`);
    }
  }

  class Provider {
    #inner;

    constructor(inner) {
      this.#inner = inner;
    }

    static create(pairs) {
      const config = configObject(pairs);
      return run(
        'create',
        () => typeof ProviderClass.create === 'function'
          ? ProviderClass.create(config)
          : new ProviderClass(config),
        (inner) => {
          if (inner === null || typeof inner !== 'object') {
            throw new BackendError(
              `the provider's create returned ${describeWithArticle(inner)}, not a provider`,
            );
          }
          return new Provider(inner);
        },
      );
    }

    get(name) {
      return run('get', () => this.#inner.get(name), (value) => toValue(value, 'get').toWit());
    }

    list(pattern) {
      return run(
        'list',
        () => this.#inner.list(compile(pattern)),
        (returned) => names(returned, 'list'),
      );
    }

    getMatching(pattern) {
      const inner = this.#inner;
      if (typeof inner.getMatching === 'function') {
        return run(
          'getMatching',
          () => inner.getMatching(compile(pattern)),
          (returned) => all(matched(returned)),
        );
      }
      return run(
        'list',
        () => inner.list(compile(pattern)),
        (returned) => all(names(returned, 'list').map((name) => {
          const value = settle('get', () => inner.get(name), (v) => toValue(v, 'get').toWit());
          return isThenable(value) ? value.then((v) => ({ name, value: v })) : { name, value };
        })),
      );
    }

    changes(held, patterns) {
      const inner = this.#inner;
      if (typeof inner.changes !== 'function') {
        return { tag: 'unknown' };
      }
      return run(
        'changes',
        () => inner.changes(
          held.map(({ name, version }) => ({ name, version: version ?? null })),
          patterns.map(compile),
        ),
        toWitChanges,
      );
    }
  }

  return { Provider };
}

/** The entries a provider's own `getMatching` returned, as WIT `matched-secret`s. */
function matched(returned) {
  if (returned === null || typeof returned !== 'object' ||
      typeof returned[Symbol.iterator] !== 'function') {
    throw new BackendError(
      `the provider's getMatching returned ${describeWithArticle(returned)}, not a list`,
    );
  }
  return [...returned].map((entry) => {
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string') {
      throw new BackendError(
        "the provider's getMatching returned an entry that is not { name, value } or { name, error }",
      );
    }
    const { name } = entry;
    if ('error' in entry && entry.error !== undefined) {
      return { name, value: { tag: 'err', val: toWitError(entry.error, 'getMatching') } };
    }
    const value = settle('getMatching', () => entry.value, (v) => toValue(v, 'getMatching').toWit());
    return isThenable(value) ? value.then((v) => ({ name, value: v })) : { name, value };
  });
}
