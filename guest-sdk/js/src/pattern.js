// Glob patterns over secret names: the host's dialect (pattern/src/lib.rs
// in this repository), matched the same way, so a provider lists exactly the
// names the host would. pattern/agreement.json holds the cases every SDK's
// matcher is held to; test/pattern.test.js runs them against this one.
//
// | syntax   | matches                                    |
// |----------|--------------------------------------------|
// | `*`      | any run of characters, `/` included        |
// | `?`      | exactly one character (`é` is one)         |
// | `[abc]`  | one character of the set; `a-z` ranges     |
// | `[!abc]` | one character not in the set (also `[^abc]`) |
//
// Everything else is literal: `{a,b}`, `\` and an unclosed `[` match
// themselves. In a class, a `]` right after the opening (or after the `!` or
// `^`) and a `-` first or last are members; a range written backwards
// (`[z-a]`) is refused. Matching is case-sensitive, by characters (Unicode
// code points), and covers the whole name.

/** A pattern that could not be compiled: a class range written backwards. */
export class PatternError extends Error {
  /**
   * @param {string} pattern the pattern as written
   * @param {string} reason what is wrong with it
   */
  constructor(pattern, reason) {
    super(`invalid pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'PatternError';
    /** The pattern as written. */
    this.pattern = pattern;
    /** What the matcher complained about. */
    this.reason = reason;
  }
}

const STAR = 0;
const ANY = 1;
const LITERAL = 2;
const CLASS = 3;

/** Whether `text` contains a wildcard (`*`, `?` or `[`). */
export function isGlob(text) {
  return /[*?[]/.test(text);
}

/**
 * A compiled glob pattern, or an exact name (a pattern without `*`, `?` or
 * `[`), as the host hands it to `list` and `getMatching`.
 */
export class Pattern {
  /** @type {string} */
  #source;
  /** @type {'exact' | 'all' | 'prefix' | 'glob'} */
  #shape;
  /** @type {string} */
  #prefix = '';
  /** @type {Array<{kind: number, char?: number, negated?: boolean, ranges?: Array<[number, number]>}>} */
  #tokens = [];

  /**
   * Compiles `source`; throws a {@link PatternError} for a class range
   * written backwards.
   * @param {string} source
   */
  constructor(source) {
    if (typeof source !== 'string') {
      throw new TypeError('a pattern is a string');
    }
    this.#source = source;
    const literal = source.replace(/\*+$/, '');
    if (!isGlob(source)) {
      this.#shape = 'exact';
    } else if (literal.length !== source.length && !isGlob(literal)) {
      // `*` and `literal*` need no matcher.
      this.#shape = literal === '' ? 'all' : 'prefix';
      this.#prefix = literal;
    } else {
      this.#shape = 'glob';
      this.#tokens = compile(source);
    }
  }

  /** A pattern matching exactly `name`, even when it contains wildcards. */
  static exact(name) {
    const pattern = new Pattern('');
    pattern.#source = name;
    return pattern;
  }

  /** Whether the whole of `name` matches. */
  matches(name) {
    switch (this.#shape) {
      case 'exact':
        return name === this.#source;
      case 'all':
        return true;
      case 'prefix':
        return name.startsWith(this.#prefix);
      default:
        return matchTokens(this.#tokens, Array.from(name, (c) => c.codePointAt(0)));
    }
  }

  /** True when the pattern has no wildcard and names exactly one secret. */
  isExact() {
    return this.#shape === 'exact';
  }

  /**
   * The literal text before the first wildcard (the whole pattern when it is
   * exact): every matching name starts with it, so a backend can use it as a
   * server-side prefix filter.
   */
  literalPrefix() {
    if (this.isExact()) {
      return this.#source;
    }
    const end = this.#source.search(/[*?[]/);
    return end < 0 ? this.#source : this.#source.slice(0, end);
  }

  /** The pattern as written. */
  get source() {
    return this.#source;
  }

  toString() {
    return this.#source;
  }
}

/** The tokens of `source` (a pattern with at least one wildcard). */
function compile(source) {
  const chars = Array.from(source, (c) => c.codePointAt(0));
  const tokens = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === 0x2a /* * */) {
      if (tokens.length === 0 || tokens[tokens.length - 1].kind !== STAR) {
        tokens.push({ kind: STAR });
      }
    } else if (c === 0x3f /* ? */) {
      tokens.push({ kind: ANY });
    } else if (c === 0x5b /* [ */) {
      const end = classEnd(chars, i);
      if (end === -1) {
        tokens.push({ kind: LITERAL, char: c });
      } else {
        tokens.push(compileClass(source, chars.slice(i + 1, end)));
        i = end;
      }
    } else {
      tokens.push({ kind: LITERAL, char: c });
    }
  }
  return tokens;
}

/**
 * The index of the `]` closing the class opened at `start`, or -1 when it is
 * never closed (the `[` is then a literal). An optional `!` or `^`, then a
 * `]` right after the opening, belong to the set.
 */
function classEnd(chars, start) {
  let j = start + 1;
  if (chars[j] === 0x21 /* ! */ || chars[j] === 0x5e /* ^ */) {
    j += 1;
  }
  if (chars[j] === 0x5d /* ] */) {
    j += 1;
  }
  for (; j < chars.length; j++) {
    if (chars[j] === 0x5d) {
      return j;
    }
  }
  return -1;
}

/**
 * The class whose text between the brackets is `body`: `!` or `^` first
 * negates, `a-z` is a range, a `-` first or last is a member, and a `-`
 * right after a range extends it (`[a-c-e]` is `a` to `e`).
 */
function compileClass(source, body) {
  let negated = false;
  if (body[0] === 0x21 || body[0] === 0x5e) {
    negated = true;
    body = body.slice(1);
  }
  const ranges = [];
  let inRange = false;
  for (const c of body) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && inRange) {
      if (c < last[0]) {
        const show = (code) => String.fromCodePoint(code);
        throw new PatternError(source, `invalid range ${show(last[0])}-${show(c)}`);
      }
      last[1] = c;
      inRange = false;
    } else if (last !== undefined && c === 0x2d /* - */) {
      inRange = true;
    } else {
      ranges.push([c, c]);
    }
  }
  if (inRange) {
    ranges.push([0x2d, 0x2d]);
  }
  return { kind: CLASS, negated, ranges };
}

/** Whether a one-character token takes the code point `c`. */
function takes(token, c) {
  switch (token.kind) {
    case LITERAL:
      return token.char === c;
    case ANY:
      return true;
    case CLASS:
      return token.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== token.negated;
    default:
      return false;
  }
}

/**
 * Whether `tokens` match all of `name` (code points). Every token but `*`
 * takes one character, so on a mismatch only the latest `*` takes one more
 * character and matching resumes after it: at most (pattern length x name
 * length) steps.
 */
function matchTokens(tokens, name) {
  let t = 0;
  let n = 0;
  let retryToken = -1;
  let retryFrom = 0;
  for (;;) {
    const token = tokens[t];
    if (token !== undefined && token.kind === STAR) {
      retryToken = t + 1;
      retryFrom = n;
      t += 1;
      continue;
    }
    if (token !== undefined && n < name.length && takes(token, name[n])) {
      t += 1;
      n += 1;
      continue;
    }
    if (token === undefined && n === name.length) {
      return true;
    }
    if (retryToken === -1 || retryFrom >= name.length) {
      return false;
    }
    retryFrom += 1;
    t = retryToken;
    n = retryFrom;
  }
}
