// The INI format the ini provider serves (see README.md beside this file),
// parsed without touching any file, so it can be tested under Node.
//
// Error messages name the line and what is wrong with it, never its text:
// a line that fails to parse may well be (part of) a secret value.

/** Control characters (C0, DEL, C1), which names may not contain. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** What a backslash in a quoted value may be followed by, and what it means. */
const ESCAPES = new Map([['\\', '\\'], ['"', '"'], ['n', '\n'], ['r', '\r'], ['t', '\t']]);

/** A malformed INI file: which line, and what is wrong with it. */
export class IniError extends Error {
  /**
   * @param {number} line the line number, from 1
   * @param {string} reason what is wrong, never the line's text
   */
  constructor(line, reason) {
    super(`line ${line}: ${reason}`);
    this.name = 'IniError';
    /** The line number, from 1. */
    this.line = line;
    /** What is wrong. */
    this.reason = reason;
  }
}

// The helpers below let the engine's own string functions do the work
// (slice, indexOf) instead of JavaScript loops over characters: in the
// component the engine interprets (WebAssembly has no JIT), so each
// JavaScript step counts, and a large file must parse within the call's
// time limit.

/** Whether the UTF-16 code unit `code` is blank space: a space, a tab, a carriage return. */
function isSpace(code) {
  return code === 32 || code === 9 || code === 13;
}

function trimStart(text) {
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) {
    start += 1;
  }
  return start === 0 ? text : text.slice(start);
}

function trim(text) {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) {
    start += 1;
  }
  while (end > start && isSpace(text.charCodeAt(end - 1))) {
    end -= 1;
  }
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * The secrets of an INI file's `text`, by full name, in file order.
 *
 * - `key = value` lines before any section are the names `key`; after a
 *   section header `[a/b]` they are `a/b/key`. A section header may be
 *   repeated; a name may not.
 * - Blank space (spaces, tabs, a carriage return) around keys, `=`,
 *   values and section names is dropped.
 * - A value in double quotes may hold the escapes `\\`, `\"`, `\n`, `\r`
 *   and `\t` (nothing else may follow a backslash) and nothing but blank
 *   space after its closing quote; any other value is the rest of the
 *   line.
 * - Blank lines and lines starting with `;` or `#` are comments.
 * - A key is not empty and holds no `/` (nested names come from
 *   sections) and no control character; keys are case-sensitive and may
 *   hold `*`, `?` and any other character.
 *
 * @param {string} text
 * @returns {Map<string, string>}
 * @throws {IniError} on a malformed line, naming it
 */
export function parseIni(text) {
  const entries = new Map();
  const firstLine = new Map();
  let prefix = '';
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    const line = trim(lines[index]);
    if (line === '' || line.startsWith(';') || line.startsWith('#')) {
      continue;
    }
    if (line.startsWith('[')) {
      prefix = `${section(line, number)}/`;
      continue;
    }
    const equals = line.indexOf('=');
    if (equals === -1) {
      throw new IniError(
        number,
        'not `key = value`, a `[section]`, a comment or a blank line',
      );
    }
    const key = trim(line.slice(0, equals));
    if (key === '') {
      throw new IniError(number, 'no key before the `=`');
    }
    if (key.includes('/')) {
      throw new IniError(
        number,
        'a key may not contain `/` (a nested name is a key in a section, such as `[a/b]`)',
      );
    }
    if (CONTROL.test(key)) {
      throw new IniError(number, 'a key may not contain control characters');
    }
    const value = parseValue(trimStart(line.slice(equals + 1)), number);
    const name = prefix + key;
    if (entries.has(name)) {
      throw new IniError(number, `${name} is set twice (first on line ${firstLine.get(name)})`);
    }
    entries.set(name, value);
    firstLine.set(name, number);
  }
  return entries;
}

/** The name of the section whose header is `line` (trimmed, starting with `[`). */
function section(line, number) {
  if (!line.endsWith(']') || line.length < 2) {
    throw new IniError(number, 'a section header is `[name]`, closed by `]` at the end of the line');
  }
  const name = trim(line.slice(1, -1));
  if (name === '' || name.split('/').some((part) => part === '')) {
    throw new IniError(
      number,
      'a section name is one or more parts separated by `/`, none of them empty',
    );
  }
  if (CONTROL.test(name)) {
    throw new IniError(number, 'a section name may not contain control characters');
  }
  return name;
}

/** The value written as `text` (after the `=` and blank space, trimmed at the end). */
function parseValue(text, number) {
  if (text.charCodeAt(0) !== 34 /* " */) {
    return text;
  }
  let value = '';
  let from = 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    const backslash = text.indexOf('\\', from);
    if (quote === -1 && backslash === -1) {
      break;
    }
    if (backslash === -1 || (quote !== -1 && quote < backslash)) {
      if (trim(text.slice(quote + 1)) !== '') {
        throw new IniError(number, 'only blank space may follow a quoted value');
      }
      return value + text.slice(from, quote);
    }
    const next = text[backslash + 1];
    if (next === undefined) {
      break;
    }
    const escaped = ESCAPES.get(next);
    if (escaped === undefined) {
      throw new IniError(
        number,
        'in a quoted value a backslash must be followed by \\, ", n, r or t',
      );
    }
    value += text.slice(from, backslash) + escaped;
    from = backslash + 2;
  }
  throw new IniError(number, 'the quoted value is not closed (a `"` is missing)');
}
