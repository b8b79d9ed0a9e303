// The answer of a change check (WIT `changes`, wit/types.wit): what changed
// among the secrets the host holds and the names its patterns match.

import { BackendError, describeWithArticle } from './errors.js';

/**
 * What changed, by full name; a name in no list is unchanged. Return one
 * from a provider's `changes` (or `null` when the provider cannot tell: the
 * host then re-reads everything it holds).
 */
export class ChangeSet {
  /**
   * @param {{changed?: Iterable<string>, added?: Iterable<string>, gone?: Iterable<string>}} [lists]
   */
  constructor({ changed = [], added = [], gone = [] } = {}) {
    /** Held names whose value is no longer the held version. @type {string[]} */
    this.changed = [...changed];
    /** Names the patterns match that the host does not hold. @type {string[]} */
    this.added = [...added];
    /** Held names that no longer exist. @type {string[]} */
    this.gone = [...gone];
  }

  /**
   * Compares what the host holds with what the provider finds now.
   *
   * `current` is every name that exists now among the held names and the
   * names the patterns match, each with its current version (`null` when the
   * provider cannot tell it now); names may repeat. It must cover every held
   * name the provider looked at: a held name missing from it is gone. A held
   * name whose version differs is changed, and so is one where either
   * version is `null` (an unversioned value cannot be shown unchanged). A
   * name of `current` that is not held is added, so leave out names the
   * patterns do not match.
   *
   * @param {Iterable<{name: string, version: string | null}>} held
   * @param {Iterable<[string, string | null]>} current
   */
  static compare(held, current) {
    const versions = new Map();
    const heldNames = [];
    for (const { name, version } of held) {
      if (!versions.has(name)) {
        versions.set(name, version ?? null);
        heldNames.push(name);
      }
    }
    const seen = new Set();
    const set = new ChangeSet();
    for (const [name, version] of current) {
      if (seen.has(name)) {
        continue;
      }
      seen.add(name);
      if (!versions.has(name)) {
        set.added.push(name);
        continue;
      }
      const was = versions.get(name);
      const now = version ?? null;
      if (was === null || now === null || was !== now) {
        set.changed.push(name);
      }
    }
    for (const name of heldNames) {
      if (!seen.has(name)) {
        set.gone.push(name);
      }
    }
    return set;
  }

  /** Whether nothing changed. */
  isEmpty() {
    return this.changed.length === 0 && this.added.length === 0 && this.gone.length === 0;
  }
}

/**
 * What a provider's `changes` returned, as the WIT `changes`: `null` or
 * `undefined` is `unknown`; a {@link ChangeSet} (or an object with the
 * lists `changed`, `added`, `gone`, each optional) is `known`.
 * @param {unknown} returned
 */
export function toWitChanges(returned) {
  if (returned === null || returned === undefined) {
    return { tag: 'unknown' };
  }
  if (typeof returned !== 'object') {
    throw new BackendError(
      `the provider's changes returned ${describeWithArticle(returned)}, not a ChangeSet or null`,
    );
  }
  const lists = {};
  for (const key of ['changed', 'added', 'gone']) {
    const list = returned[key] ?? [];
    const names = typeof list[Symbol.iterator] === 'function' && typeof list !== 'string'
      ? [...list]
      : null;
    if (names === null || names.some((name) => typeof name !== 'string')) {
      throw new BackendError(
        `the provider's changes returned a change set whose ${key} is not a list of names`,
      );
    }
    lists[key] = names;
  }
  return { tag: 'known', val: lists };
}
