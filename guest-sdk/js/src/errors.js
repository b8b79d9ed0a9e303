// The errors a provider throws, and how any thrown value becomes the WIT
// `error` variant (wit/types.wit): `not-found`, `backend`, `access-denied`,
// each with a message for people. The host shows these messages to
// operators and writes them to logs: never put a secret value in one.

/**
 * Marks the SDK's errors with their WIT case. A symbol from the global
 * registry, so an error made by another copy of this module is still
 * recognised.
 */
const KIND = Symbol.for('pp-secrets-provider.error-kind');

/**
 * What the JavaScript engine (SpiderMonkey) throws when an allocation fails:
 * this string, not an Error. A fixed text, so it is safe to recognise.
 */
const OUT_OF_MEMORY = 'out of memory';

/** The WIT cases of `error`. */
const KINDS = new Set(['not-found', 'backend', 'access-denied']);

/**
 * The base class of the errors a provider throws. Throw one of its
 * subclasses: {@link NotFound}, {@link BackendError}, {@link AccessDenied}.
 */
export class ProviderError extends Error {
  /**
   * @param {'not-found' | 'backend' | 'access-denied'} kind the WIT case
   * @param {string} message for operators; never a secret value
   * @param {ErrorOptions} [options] `{ cause }`: kept for the provider's own
   *   use, never sent to the host
   */
  constructor(kind, message, options) {
    super(String(message), options);
    if (!KINDS.has(kind)) {
      throw new TypeError(`unknown error kind ${JSON.stringify(kind)}`);
    }
    Object.defineProperty(this, KIND, { value: kind });
  }

  /** The WIT case: `not-found`, `backend` or `access-denied`. */
  get kind() {
    return this[KIND];
  }
}

/** The secret does not exist (WIT `not-found`). */
export class NotFound extends ProviderError {
  /**
   * @param {string} secret the full name that does not exist; the message
   *   is "<secret> not found"
   */
  constructor(secret) {
    super('not-found', `${secret} not found`);
    this.name = 'NotFound';
    /** The name that was asked for. */
    this.secret = secret;
  }
}

/**
 * The provider failed: I/O, network, authentication, bad data (WIT
 * `backend`). Thrown from `constructor`/`create`, it is the backend's set-up
 * error.
 */
export class BackendError extends ProviderError {
  /**
   * @param {string} message what failed; never a secret value
   * @param {ErrorOptions} [options] `{ cause }`, never sent to the host
   */
  constructor(message, options) {
    super('backend', message, options);
    this.name = 'BackendError';
  }
}

/** The provider may not read this secret (WIT `access-denied`). */
export class AccessDenied extends ProviderError {
  /**
   * @param {string} message why; never a secret value
   * @param {ErrorOptions} [options] `{ cause }`, never sent to the host
   */
  constructor(message, options) {
    super('access-denied', message, options);
    this.name = 'AccessDenied';
  }
}

/**
 * What a thrown value is, for a message that must not show its content: the
 * class of an object (`TypeError`), else its type (`string`).
 */
export function describeThrown(thrown) {
  if (thrown === null) {
    return 'null';
  }
  if (typeof thrown !== 'object' && typeof thrown !== 'function') {
    return typeof thrown;
  }
  let name;
  try {
    name = thrown.constructor?.name;
  } catch {
    name = undefined;
  }
  // A class name is an identifier; anything else is not shown.
  return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : 'object';
}

/**
 * The WIT `error` for a value thrown by the provider's `what` (`get`,
 * `create`, ...): the SDK's errors keep their case and message; anything
 * else (a `TypeError`, a thrown string) is a `backend` error naming only its
 * class, because its message or stack could hold a secret value.
 */
export function toWitError(thrown, what) {
  let kind;
  try {
    kind = thrown !== null && typeof thrown === 'object' ? thrown[KIND] : undefined;
  } catch {
    kind = undefined;
  }
  if (KINDS.has(kind)) {
    let message;
    try {
      message = thrown.message;
    } catch {
      message = undefined;
    }
    if (typeof message === 'string') {
      return { tag: kind, val: message };
    }
  }
  if (thrown === OUT_OF_MEMORY) {
    return {
      tag: 'backend',
      val: `the provider's ${what} ran out of memory (the JavaScript engine's; limits.memory_mb)`,
    };
  }
  return {
    tag: 'backend',
    val:
      `the provider's ${what} threw ${article(describeThrown(thrown))} ` +
      '(not shown: it could hold a secret value)',
  };
}

/**
 * {@link describeThrown} with an article: `a TypeError`, `an object`.
 */
export function describeWithArticle(thrown) {
  return article(describeThrown(thrown));
}

function article(word) {
  if (word === 'null' || word === 'undefined') {
    return word;
  }
  return /^[aeiouAEIOU]/.test(word) ? `an ${word}` : `a ${word}`;
}
