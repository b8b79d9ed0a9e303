"""The json provider's parsing, set-up, versions and change checks, run
natively (CPython, with the SDK installed): the same module the component
is built from, on real files in a temporary directory."""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json_provider as jp  # noqa: E402
import pp_secrets_provider as pp  # noqa: E402

KEYSTORE = bytes([0xFE, 0xFF, 0x6B, 0x65, 0x79, 0x00, 0x0A, 0x80])

#: The standard secrets, as the provider test-suite writes them.
FIXTURE = {
    "db_password": "s3cr3t-canary",
    "db_user": "billing",
    "api_key": '{"id": 7, "key": "k"}',
    "Db_upper": "case",
    "a*b": "literal star",
    "b?c": "literal question mark",
    "café": "non-ASCII name",
    "empty": "",
    "multi": "line one\nline two\n",
    "app": {"db": {"password": "nested-canary", "user": "app"}, "token": "t0ken"},
    "keystore": {"$base64": base64.b64encode(KEYSTORE).decode()},
}

#: Every value of FIXTURE, to look for in error messages.
VALUES = ["s3cr3t-canary", "billing", "nested-canary", "t0ken", "literal star", "case"]


def settle(path: Path) -> None:
    """Sets the file's modification time well in the past, so its times
    count as settled (the status-change time is now, though: see the tests
    that need both)."""
    old = time.time() - 60
    os.utime(path, (old, old))


class ParseTest(unittest.TestCase):
    def parse(self, document: object) -> dict:
        return jp.parse(json.dumps(document, ensure_ascii=False).encode())

    def test_the_fixture(self) -> None:
        secrets = self.parse(FIXTURE)
        self.assertEqual(
            sorted(secrets),
            sorted(
                [
                    "db_password",
                    "db_user",
                    "api_key",
                    "Db_upper",
                    "a*b",
                    "b?c",
                    "café",
                    "empty",
                    "multi",
                    "app/db/password",
                    "app/db/user",
                    "app/token",
                    "keystore",
                ]
            ),
        )
        self.assertEqual(secrets["app/db/password"], "nested-canary")
        self.assertEqual(secrets["multi"], "line one\nline two\n")
        self.assertEqual(secrets["empty"], "")
        self.assertEqual(secrets["api_key"], '{"id": 7, "key": "k"}')
        self.assertEqual(secrets["keystore"], KEYSTORE)
        self.assertIsInstance(secrets["keystore"], bytes)

    def test_scalars_and_arrays_are_served_as_json_text(self) -> None:
        raw = (
            b'{"n": 7, "f": 1.50, "e": 1E+5, "big": 123456789012345678901234567890,'
            b' "t": true, "no": false, "z": null,'
            b' "arr": [1, "two", {"k": [true, null]}, "\\u00e9\\n"]}'
        )
        secrets = jp.parse(raw)
        self.assertEqual(
            secrets,
            {
                "n": "7",
                "f": "1.50",
                "e": "1E+5",
                "big": "123456789012345678901234567890",
                "t": "true",
                "no": "false",
                "z": "null",
                "arr": '[1,"two",{"k":[true,null]},"é\\n"]',
            },
        )

    def test_a_mapping_is_not_a_secret_and_an_empty_one_has_none(self) -> None:
        self.assertEqual(self.parse({"a": {}, "b": {"c": {}}}), {})

    def test_base64_objects(self) -> None:
        self.assertEqual(self.parse({"k": {"$base64": ""}}), {"k": b""})
        # Only an object whose only key is $base64 is bytes.
        self.assertEqual(
            self.parse({"k": {"$base64": "AA==", "x": "y"}}), {"k/$base64": "AA==", "k/x": "y"}
        )
        for bad in ["AA", "A===", "-_8=", "AA==\n", "é"]:
            with (
                self.subTest(encoded=bad),
                self.assertRaisesRegex(jp.FormatError, '"k": "\\$base64" is not standard base64'),
            ):
                self.parse({"k": {"$base64": bad}})
        with self.assertRaisesRegex(jp.FormatError, '"app/k": "\\$base64" must be a string'):
            self.parse({"app": {"k": {"$base64": 5}}})

    def test_a_key_with_a_slash_is_refused_naming_its_path(self) -> None:
        with self.assertRaises(jp.FormatError) as caught:
            self.parse({"app": {"db/password": "s3cr3t-canary"}})
        message = str(caught.exception)
        self.assertIn('the key "db/password" (under "app") contains \'/\'', message)
        self.assertNotIn("s3cr3t-canary", message)

    def test_other_bad_keys(self) -> None:
        with self.assertRaisesRegex(jp.FormatError, 'the key "app/db" appears twice'):
            jp.parse(b'{"app": {"db": "s3cr3t-canary", "db": "x"}}')
        with self.assertRaisesRegex(jp.FormatError, 'an empty key under "app"'):
            self.parse({"app": {"": "s3cr3t-canary"}})

    def test_malformed_json_names_the_line_and_no_value(self) -> None:
        raw = b'{\n  "db_password": "s3cr3t-canary",\n  "db_user": "billing"\n  "x": 1\n}'
        with self.assertRaises(jp.FormatError) as caught:
            jp.parse(raw)
        message = str(caught.exception)
        self.assertEqual(message, "not valid JSON: Expecting ',' delimiter at line 4 column 3")
        for bad, expected in [
            (
                b'{"a": "s3cr3t-canary\n"}',
                "^not valid JSON: Invalid control character at line 1 column 21$",
            ),
            (b'{"a": "s3cr3t-canary', "^not valid JSON: Unterminated string at line 1 column 7$"),
            (b'{"a": "s3cr3t\\q"}', "Invalid \\\\escape at line 1 column 14"),
            (b'{"a": 1} {"b": "s3cr3t-canary"}', "Extra data at line 1 column 10"),
            (b'{"a": NaN}', "NaN is not a JSON number"),
            (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
            (b"", "Expecting value at line 1 column 1"),
        ]:
            with self.subTest(document=bad):
                with self.assertRaises(jp.FormatError) as caught:
                    jp.parse(bad)
                self.assertRegex(str(caught.exception), expected)
                self.assertNotIn("s3cr3t", str(caught.exception))

    def test_the_pure_python_scanners_quotes_are_dropped(self) -> None:
        # CPython's pure-Python scanner (used where its C one is missing)
        # quotes the offending character in two messages.
        self.assertEqual(
            jp._reason("Invalid control character '\\x07' at"), "Invalid control character"
        )
        self.assertEqual(jp._reason("Invalid \\escape: 'q'"), "Invalid \\escape")
        self.assertEqual(jp._reason("Unterminated string starting at"), "Unterminated string")
        self.assertEqual(jp._reason("Expecting ',' delimiter"), "Expecting ',' delimiter")

    def test_not_an_object(self) -> None:
        for document, kind in [
            ([], "an array"),
            ("s3cr3t-canary", "a string"),
            (7, "a number"),
            (None, "null"),
            (True, "a boolean"),
        ]:
            with self.subTest(document=document):
                with self.assertRaisesRegex(
                    jp.FormatError, f"the top level is {kind}, not an object"
                ):
                    self.parse(document)

    def test_text_that_is_not_unicode_is_refused_by_place(self) -> None:
        with self.assertRaisesRegex(jp.FormatError, r"not UTF-8 text \(line 2\)"):
            jp.parse(b'{"a":\n "\xff"}')
        with self.assertRaisesRegex(
            jp.FormatError, 'the value at "app/k" has an escaped lone surrogate'
        ):
            jp.parse(b'{"app": {"k": "\\ud800"}}')
        with self.assertRaisesRegex(jp.FormatError, 'a key at "app" has an escaped lone surrogate'):
            jp.parse(b'{"app": {"\\udfff": "x"}}')
        with self.assertRaisesRegex(jp.FormatError, 'a string in an array at "arr"'):
            jp.parse(b'{"arr": [["\\uD800"]]}')
        with self.assertRaisesRegex(jp.FormatError, 'a key in an array at "arr"'):
            jp.parse(b'{"arr": [{"\\udc00": 1}]}')
        # A surrogate pair is one character, and fine.
        self.assertEqual(jp.parse(b'{"k": "\\ud83d\\ude00"}'), {"k": "\U0001f600"})

    def test_a_byte_order_mark_is_skipped(self) -> None:
        self.assertEqual(jp.parse(b'\xef\xbb\xbf{"a": "b"}'), {"a": "b"})

    def test_deep_nesting_is_refused(self) -> None:
        deep = b'{"a": ' * 100 + b'"x"' + b"}" * 100
        with self.assertRaisesRegex(jp.FormatError, "nest more than 64 deep"):
            jp.parse(deep)
        with self.assertRaisesRegex(jp.FormatError, "nest more than 64 deep"):
            jp.parse(b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}")
        with self.assertRaisesRegex(jp.FormatError, "nest more than 64 deep"):
            jp.parse(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        # 64 is fine; brackets in strings (around escaped quotes and
        # backslashes) are not nesting.
        self.assertEqual(jp.parse(b'{"a": ' * 64 + b'"x"' + b"}" * 64), {"/".join(["a"] * 64): "x"})
        document = b'{"a": "' + b"[" * 100 + b'\\"", "b\\\\": "{{{{"}'
        self.assertEqual(jp.parse(document), {"a": "[" * 100 + '"', "b\\": "{{{{"})


class ProviderTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.file = Path(self.dir.name) / "secrets.json"
        self.write(FIXTURE)

    def tearDown(self) -> None:
        self.dir.cleanup()

    def write(self, document: object) -> None:
        self.file.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    def provider(self) -> jp.JsonFile:
        return jp.JsonFile({"file": str(self.file)})

    def test_config_errors(self) -> None:
        for config, expected in [
            ({}, "config: `file` is required"),
            ({"file": ""}, "config: `file` is required"),
            (
                {"file": "secrets.json"},
                'config: `file` must be an absolute path, not "secrets.json"',
            ),
            ({"file": str(self.file), "dir": "/x"}, 'config: unknown setting "dir"'),
            (
                {"file": str(self.file) + ".missing"},
                "cannot read .*secrets.json.missing: No such file or directory",
            ),
        ]:
            with self.subTest(config=config):
                with self.assertRaisesRegex(pp.BackendError, expected):
                    jp.JsonFile(config)

    def test_a_malformed_file_fails_set_up_naming_the_file(self) -> None:
        self.file.write_bytes(b'{\n"db_password": "s3cr3t-canary",\n}')
        with self.assertRaises(pp.BackendError) as caught:
            self.provider()
        message = caught.exception.message
        self.assertTrue(message.startswith(f"{self.file}: not valid JSON: "), message)
        self.assertIn("line 3 column 1", message)
        self.assertNotIn("s3cr3t", message)

    def test_a_file_too_big_is_refused(self) -> None:
        self.file.write_bytes(b" " * (jp.MAX_FILE_BYTES + 1))
        with self.assertRaisesRegex(pp.BackendError, "reads files of at most"):
            self.provider()

    def test_get_list_and_get_matching(self) -> None:
        provider = self.provider()
        self.assertEqual(provider.get("app/db/password").data, "nested-canary")
        self.assertEqual(provider.get("keystore").data, KEYSTORE)
        with self.assertRaises(pp.NotFound):
            provider.get("app/db")
        with self.assertRaises(pp.NotFound):
            provider.get("app")
        self.assertEqual(
            sorted(provider.list(pp.Pattern("app/*"))),
            ["app/db/password", "app/db/user", "app/token"],
        )
        self.assertEqual(provider.list(pp.Pattern("a*b")), ["a*b"])
        self.assertEqual(len(provider.list(pp.Pattern("*"))), 13)
        found = provider.get_matching(pp.Pattern("db_*"))
        self.assertEqual(
            {k: v.data for k, v in found.items()},
            {"db_password": "s3cr3t-canary", "db_user": "billing"},
        )

    def test_a_fresh_file_gives_no_version_a_settled_one_its_identity(self) -> None:
        provider = self.provider()
        self.assertIsNone(provider.get("db_user").version)
        # A status-change time cannot be set back: pretend the clock moved on.
        now = time.time_ns
        try:
            jp.time.time_ns = lambda: now() + 5_000_000_000
            version = provider.get("db_user").version
        finally:
            jp.time.time_ns = now
        status = os.stat(self.file)
        self.assertEqual(
            version, f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}"
        )
        self.assertNotIn("billing", version)

    def test_a_get_sees_the_file_as_it_is_now(self) -> None:
        provider = self.provider()
        changed = dict(FIXTURE, db_user="rotated")
        self.write(changed)
        self.assertEqual(provider.get("db_user").data, "rotated")
        self.file.write_bytes(b'{"db_user": ')
        with self.assertRaisesRegex(pp.BackendError, "not valid JSON"):
            provider.get("db_user")
        self.file.unlink()
        with self.assertRaisesRegex(pp.BackendError, "cannot read .*No such file"):
            provider.get("db_user")

    def test_changes(self) -> None:
        provider = self.provider()
        later = time.time_ns() + 5_000_000_000
        now = time.time_ns
        try:
            jp.time.time_ns = lambda: later
            version = provider.get("db_user").version
            self.assertIsNotNone(version)
            held = [
                pp.Held("db_user", version),
                pp.Held("app/token", version),
                pp.Held("db_password", version),
            ]
            # Unchanged: nothing to report, and the file is not read.
            reads = []
            read = provider._read
            provider._read = lambda *previous: reads.append(1) or read(*previous)
            self.assertEqual(provider.changes(held, [pp.Pattern("db_*")]), pp.ChangeSet())
            self.assertEqual(reads, [])
            # A name the patterns match that is not held is added, from memory.
            self.assertEqual(
                provider.changes(held[:1], [pp.Pattern("db_*")]).added, ["db_password"]
            )
            self.assertEqual(reads, [])
            # Rewritten: one read; every held name changed, removed ones gone,
            # new matches added.
            document = dict(FIXTURE, db_user="rotated", db_new="x")
            del document["db_password"]
            self.write(document)
            later += 5_000_000_000
            changes = provider.changes(held, [pp.Pattern("db_*")])
            self.assertEqual(reads, [1])
            self.assertEqual(
                changes,
                pp.ChangeSet(
                    changed=["db_user", "app/token"], added=["db_new"], gone=["db_password"]
                ),
            )
        finally:
            jp.time.time_ns = now

    def test_a_fresh_file_is_read_on_every_call_a_settled_one_once(self) -> None:
        provider = self.provider()
        reads, parses = [], []
        read, parse = provider._read, provider._parse
        provider._read = lambda *previous: reads.append(1) or read(*previous)
        provider._parse = lambda raw: parses.append(1) or parse(raw)
        # Changed a moment ago: a second write within the same clock tick
        # could keep the identity, so each call reads the file again (and
        # parses it only when the content differs).
        provider.get("db_user")
        provider.list(pp.Pattern("*"))
        self.assertEqual((len(reads), len(parses)), (2, 0))
        # Rewritten within the same tick, to the same size: the identity
        # stays (here without the status-change time, which a test cannot
        # set back), and the new content is seen all the same.
        identity = jp._identity
        jp._identity = lambda s: (f"{s.st_size}:{s.st_mtime_ns}", s.st_mtime_ns)
        try:
            provider.file = provider._read()
            before = provider.file.identity
            status = os.stat(self.file)
            self.write(dict(FIXTURE, db_user="billinG"))
            os.utime(self.file, ns=(status.st_atime_ns, status.st_mtime_ns))
            self.assertEqual(provider.get("db_user").data, "billinG")
            self.assertEqual(provider.file.identity, before)
        finally:
            jp._identity = identity
        self.assertEqual((len(reads), len(parses)), (4, 2))
        now = time.time_ns
        try:
            jp.time.time_ns = lambda: now() + 5_000_000_000
            provider.get("db_user")
            self.assertEqual(len(reads), 5)
            self.assertIsNone(provider.file.raw)
            provider.get("db_user")
            provider.get_matching(pp.Pattern("*"))
            self.assertEqual((len(reads), len(parses)), (5, 3))
        finally:
            jp.time.time_ns = now

    def test_a_value_read_from_a_fresh_file_is_always_changed(self) -> None:
        provider = self.provider()
        held = [pp.Held("db_user", provider.get("db_user").version)]
        self.assertIsNone(held[0].version)
        self.assertEqual(provider.changes(held, []).changed, ["db_user"])


if __name__ == "__main__":
    unittest.main()
