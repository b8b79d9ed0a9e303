// Values as a provider serves them: text or bytes, with an optional
// version (WIT `versioned-value`, wit/types.wit).

import { BackendError, describeWithArticle } from './errors.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * A secret's value, text or bytes, with its version: an opaque tag that
 * changes whenever the value does (a revision, a file's identity), or `null`
 * when the provider keeps none. The host hands versions back to `changes`
 * and compares them for equality only; a version must not reveal the value
 * (no unkeyed hash of it).
 *
 * `toString`, `toJSON` and Node's `inspect` show the kind, the length and the
 * version, never the content.
 */
export class Value {
  /** @type {string | Uint8Array} */
  #content;
  /** @type {string | null} */
  #version;

  /**
   * @param {string | Uint8Array} content text, or bytes (kept as bytes even
   *   when they are UTF-8)
   * @param {string | null} [version]
   */
  constructor(content, version = null) {
    if (typeof content === 'string') {
      this.#content = content;
    } else if (content instanceof Uint8Array) {
      this.#content = new Uint8Array(content);
    } else if (content instanceof ArrayBuffer) {
      this.#content = new Uint8Array(content.slice(0));
    } else {
      throw new TypeError(
        `a value is a string or a Uint8Array, not ${describeWithArticle(content)}`,
      );
    }
    if (version !== null && version !== undefined && typeof version !== 'string') {
      throw new TypeError(`a version is a string or null, not ${describeWithArticle(version)}`);
    }
    this.#version = version ?? null;
  }

  /** A text value. */
  static text(text, version = null) {
    if (typeof text !== 'string') {
      throw new TypeError(`Value.text takes a string, not ${describeWithArticle(text)}`);
    }
    return new Value(text, version);
  }

  /** A bytes value (kept as bytes even when they are UTF-8). */
  static bytes(bytes, version = null) {
    if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
      throw new TypeError(`Value.bytes takes a Uint8Array, not ${describeWithArticle(bytes)}`);
    }
    return new Value(bytes, version);
  }

  /**
   * Text when `bytes` are UTF-8, bytes otherwise: what a provider reading
   * raw data (a file, a binary field) serves.
   */
  static textOrBytes(bytes, version = null) {
    const view = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
    if (!(view instanceof Uint8Array)) {
      throw new TypeError(`Value.textOrBytes takes a Uint8Array, not ${describeWithArticle(bytes)}`);
    }
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(view);
    } catch {
      return new Value(view, version);
    }
    return new Value(text, version);
  }

  /** This value with `version`. */
  withVersion(version) {
    return new Value(this.#content, version);
  }

  /** The version, or `null`. */
  get version() {
    return this.#version;
  }

  /** Whether the value is bytes. */
  get isBytes() {
    return typeof this.#content !== 'string';
  }

  /** The text, or `null` for bytes. */
  get text() {
    return typeof this.#content === 'string' ? this.#content : null;
  }

  /** The content as bytes: a text's UTF-8, or (a copy of) the bytes. */
  get bytes() {
    return typeof this.#content === 'string'
      ? new TextEncoder().encode(this.#content)
      : new Uint8Array(this.#content);
  }

  toString() {
    const kind = this.isBytes ? 'bytes' : 'text';
    const length = typeof this.#content === 'string'
      ? new TextEncoder().encode(this.#content).length
      : this.#content.length;
    const version = this.#version === null ? '' : `, version ${JSON.stringify(this.#version)}`;
    return `Value(${kind}, ${length} bytes redacted${version})`;
  }

  toJSON() {
    return this.toString();
  }

  [INSPECT]() {
    return this.toString();
  }

  /** The WIT `versioned-value`. @internal */
  toWit() {
    return {
      value: typeof this.#content === 'string'
        ? { tag: 'text', val: this.#content }
        : { tag: 'bytes', val: this.#content },
      version: this.#version ?? undefined,
    };
  }
}

/**
 * What a provider's `get` returned, as a {@link Value}: a `Value`, a string
 * (text), a `Uint8Array` (bytes), or `{ value, version }` with `value` a
 * string or a `Uint8Array`. Anything else is a {@link BackendError} naming
 * what it was (never its content).
 * @param {unknown} returned
 * @param {string} what the method, for the message
 * @returns {Value}
 */
export function toValue(returned, what) {
  if (returned instanceof Value) {
    return returned;
  }
  if (typeof returned === 'string' || returned instanceof Uint8Array) {
    return new Value(returned);
  }
  if (returned !== null && typeof returned === 'object' && !Array.isArray(returned)) {
    const content = returned.value;
    const version = returned.version ?? null;
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new BackendError(
        `the provider's ${what} returned an object whose value is ${describeWithArticle(content)}, ` +
          'not a string or a Uint8Array',
      );
    }
    if (typeof version !== 'string' && version !== null) {
      throw new BackendError(
        `the provider's ${what} returned a version that is ${describeWithArticle(version)}, not a string`,
      );
    }
    return new Value(content, version);
  }
  throw new BackendError(
    `the provider's ${what} returned ${describeWithArticle(returned)}, not a string, ` +
      'a Uint8Array, a Value or { value, version }',
  );
}
