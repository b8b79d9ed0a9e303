// The INI format of the ini provider (../ini.js), under Node.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { IniError, parseIni } from '../ini.js';

const parsed = (text) => Object.fromEntries(parseIni(text));

/** The IniError `text` gives: its line and reason. */
function failure(text) {
  try {
    parseIni(text);
  } catch (e) {
    assert.ok(e instanceof IniError, String(e));
    return { line: e.line, message: e.message };
  }
  assert.fail(`parsed: ${JSON.stringify(text)}`);
}

test('the standard fixture: top-level names, sections, escapes', () => {
  const text = [
    '; the standard secrets',
    'db_password = "s3cr3t-canary"',
    'db_user = "billing"',
    'api_key = "{\\"id\\": 7, \\"key\\": \\"k\\"}"',
    'Db_upper = "case"',
    'a*b = "literal star"',
    'b?c = "literal question mark"',
    'café = "non-ASCII name"',
    'empty = ""',
    'multi = "line one\\nline two\\n"',
    '',
    '[app/db]',
    'password = "nested-canary"',
    'user = "app"',
    '[app]',
    'token = "t0ken"',
  ].join('\n');
  assert.deepEqual(parsed(text), {
    db_password: 's3cr3t-canary',
    db_user: 'billing',
    api_key: '{"id": 7, "key": "k"}',
    Db_upper: 'case',
    'a*b': 'literal star',
    'b?c': 'literal question mark',
    'café': 'non-ASCII name',
    empty: '',
    multi: 'line one\nline two\n',
    'app/db/password': 'nested-canary',
    'app/db/user': 'app',
    'app/token': 't0ken',
  });
  assert.deepEqual([...parseIni(text).keys()].slice(0, 2), ['db_password', 'db_user'], 'file order');
});

test('every escape, and quotes keep blank space and comment characters', () => {
  assert.deepEqual(parsed('k = "\\\\ \\" \\n \\r \\t"'), { k: '\\ " \n \r \t' });
  assert.deepEqual(parsed('k = "  padded ; not # a comment  "'), { k: '  padded ; not # a comment  ' });
  assert.deepEqual(parsed('k = "a=b"'), { k: 'a=b' });
  assert.deepEqual(parsed('k = "tab\there"'), { k: 'tab\there' });
});

test('unquoted values are the rest of the line, trimmed', () => {
  assert.deepEqual(parsed('k =   a value ; with = signs  \t'), { k: 'a value ; with = signs' });
  assert.deepEqual(parsed('k ='), { k: '' });
  assert.deepEqual(parsed('k=v'), { k: 'v' });
  assert.deepEqual(parsed('k = back\\slash'), { k: 'back\\slash' });
  assert.deepEqual(parsed('k = a "quote" inside'), { k: 'a "quote" inside' });
});

test('blank space around keys, = and section names is dropped; CRLF works', () => {
  assert.deepEqual(parsed('  key \t =  "v"  \r\n[ app/db ]\r\n\tpassword=x\r\n'), {
    key: 'v',
    'app/db/password': 'x',
  });
});

test('comments and blank lines', () => {
  assert.deepEqual(parsed('; a comment\n# another\n   ; indented\n\n\t\nk = v\n'), { k: 'v' });
  assert.deepEqual(parsed(''), {});
});

test('keys are case-sensitive and may hold globs, non-ASCII and quotes', () => {
  assert.deepEqual(parsed('Key = 1\nkey = 2\n[x]\n日本 = 3\nit"s = 4\n*?[] = 5'), {
    Key: '1',
    key: '2',
    'x/日本': '3',
    'x/it"s': '4',
    'x/*?[]': '5',
  });
});

test('a section may be opened again, but a name may not be set twice', () => {
  assert.deepEqual(parsed('[a]\nx = 1\n[b]\ny = 2\n[a]\nz = 3'), { 'a/x': '1', 'b/y': '2', 'a/z': '3' });
  assert.deepEqual(failure('k = 1\n\nk = "hunter2"'), {
    line: 3,
    message: 'line 3: k is set twice (first on line 1)',
  });
  assert.equal(failure('[a]\nx = 1\n[a]\nx = 2').line, 4);
});

test('malformed lines are errors naming the line, never its text', () => {
  const cases = [
    ['ok = 1\nhunter2', 2, 'not `key = value`'],
    ['= hunter2', 1, 'no key before the `=`'],
    ['k = "hunter2', 1, 'is not closed'],
    ['k = "hunter2\\', 1, 'is not closed'],
    ['k = "hunter2\\q"', 1, 'in a quoted value a backslash must be followed by \\, ", n, r or t'],
    ['k = "hunter2\\0"', 1, 'a backslash must be followed by'],
    ['k = "hun" ter2', 1, 'only blank space may follow a quoted value'],
    ['k = "hunter2" ; comment', 1, 'only blank space may follow a quoted value'],
    ['[hunter2', 1, 'a section header is `[name]`'],
    ['[]', 1, 'a section name is one or more parts'],
    ['[ ]', 1, 'a section name is one or more parts'],
    ['[a//b]', 1, 'a section name is one or more parts'],
    ['[/a]', 1, 'a section name is one or more parts'],
    ['[a/]', 1, 'a section name is one or more parts'],
    ['[a]\n\na/b = hunter2', 3, 'a key may not contain `/`'],
    ['a\u0001b = hunter2', 1, 'a key may not contain control characters'],
    ['[a\u001bb]', 1, 'a section name may not contain control characters'],
  ];
  for (const [text, line, reason] of cases) {
    const got = failure(text);
    assert.equal(got.line, line, text);
    assert.ok(got.message.startsWith(`line ${line}: `), got.message);
    assert.ok(got.message.includes(reason), `${JSON.stringify(text)}: ${got.message}`);
    assert.ok(!got.message.includes('hunter2') && !got.message.includes('ter2'), got.message);
  }
});

test('a value may be large and hold any character', () => {
  const big = 'x'.repeat(100_000);
  assert.equal(parseIni(`k = ${big}`).get('k'), big);
  assert.equal(parseIni('k = "\u0000\u2028é😀"').get('k'), '\u0000\u2028é😀');
});
