"""The SDK's Python side: errors, values, change sets, the base class and
export. Runs with plain CPython (no bindings needed)."""

from __future__ import annotations

import unittest

import pp_secrets_provider as pp
from pp_secrets_provider import _provider


class Fixed(pp.Provider):
    """Serves a fixed map; `broken` raises a KeyError quoting a value."""

    values = {"a": "1", "b": b"\x00\xff", "denied": None, "broken": None}

    def get(self, name: str):
        if name == "denied":
            raise pp.AccessDenied("no grant for denied")
        if name == "broken":
            return {"x": "hunter2"}["hunter2"]
        if name not in self.values:
            raise pp.NotFound(name)
        return self.values[name]

    def list(self, pattern: pp.Pattern):
        return pattern.filter(self.values)


class ErrorsTest(unittest.TestCase):
    def test_each_error_has_its_case_and_message(self) -> None:
        self.assertEqual(
            (pp.NotFound("db").kind, pp.NotFound("db").message), ("not-found", "db not found")
        )
        self.assertEqual(pp.NotFound("db", "no db here").message, "no db here")
        self.assertEqual(pp.NotFound("db").name, "db")
        self.assertEqual(pp.BackendError("down").kind, "backend")
        self.assertEqual(pp.AccessDenied("no").kind, "access-denied")
        self.assertEqual(pp.ProviderError("plain").kind, "backend")
        self.assertTrue(issubclass(pp.NotFound, pp.ProviderError))
        self.assertEqual(str(pp.BackendError("down")), "down")
        self.assertEqual(repr(pp.BackendError("down")), "BackendError('down')")

    def test_a_message_is_text(self) -> None:
        with self.assertRaises(TypeError):
            pp.BackendError(b"bytes")  # type: ignore[arg-type]

    def test_an_unexpected_exception_is_named_by_type_only(self) -> None:
        try:
            {"x": 1}["hunter2"]
        except KeyError as error:
            mapped = pp.unexpected_error(error, "get db")
        self.assertIsInstance(mapped, pp.BackendError)
        self.assertNotIn("hunter2", mapped.message)
        self.assertTrue(
            mapped.message.startswith("get db: the provider raised KeyError"), mapped.message
        )
        self.assertIn("not shown", mapped.message)

    def test_a_non_builtin_exception_is_named_with_its_module(self) -> None:
        import json

        try:
            json.loads('{"k": "hunter2",}')
        except ValueError as error:
            mapped = pp.unexpected_error(error, "set-up")
        self.assertIn("json.decoder.JSONDecodeError", mapped.message)
        self.assertNotIn("hunter2", mapped.message)
        self.assertNotIn("line", mapped.message)


class ValueTest(unittest.TestCase):
    def test_text_and_bytes(self) -> None:
        text = pp.Value("s3cret")
        self.assertEqual(
            (text.data, text.text, text.is_bytes, text.version), ("s3cret", "s3cret", False, None)
        )
        raw = pp.Value(bytearray(b"\xfe\xff"), version="7")
        self.assertEqual(
            (raw.data, raw.text, raw.is_bytes, raw.version), (b"\xfe\xff", None, True, "7")
        )
        self.assertEqual(pp.Value(memoryview(b"ab")).data, b"ab")
        self.assertEqual(text.as_bytes(), b"s3cret")
        self.assertEqual(text.with_version("2"), pp.Value("s3cret", "2"))
        self.assertNotEqual(pp.Value("a"), pp.Value(b"a"))

    def test_text_or_bytes(self) -> None:
        self.assertEqual(pp.Value.text_or_bytes(b"caf\xc3\xa9"), pp.Value("café"))
        self.assertEqual(pp.Value.text_or_bytes(b"\xff", "1"), pp.Value(b"\xff", "1"))

    def test_repr_hides_the_content(self) -> None:
        shown = repr(pp.Value("hunter2", version="3"))
        self.assertNotIn("hunter2", shown)
        self.assertEqual(shown, "Value(<text, 7 bytes redacted>, version='3')")
        self.assertNotIn("104", repr(pp.Value(b"hunter2")))
        self.assertEqual(repr(pp.Value(b"\x00")), "Value(<bytes, 1 bytes redacted>)")

    def test_types_are_checked(self) -> None:
        with self.assertRaises(TypeError):
            pp.Value(42)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            pp.Value("x", version=7)  # type: ignore[arg-type]


class ChangeSetTest(unittest.TestCase):
    def test_compare_reports_changed_added_and_gone(self) -> None:
        held = [
            pp.Held("same", "1"),
            pp.Held("newer", "1"),
            pp.Held("unversioned", None),
            pp.Held("deleted", "1"),
        ]
        current = [
            ("same", "1"),
            ("newer", "2"),
            ("unversioned", "1"),
            ("fresh", None),
            ("fresh", None),
            ("same", "1"),
        ]
        changes = pp.ChangeSet.compare(held, current)
        self.assertEqual(
            changes,
            pp.ChangeSet(changed=["newer", "unversioned"], added=["fresh"], gone=["deleted"]),
        )
        self.assertTrue(changes)

    def test_an_unknown_current_version_is_a_change(self) -> None:
        changes = pp.ChangeSet.compare([pp.Held("a", "1")], [("a", None)])
        self.assertEqual(changes.changed, ["a"])

    def test_nothing_changed(self) -> None:
        changes = pp.ChangeSet.compare([pp.Held("a", "1"), pp.Held("a", "1")], [("a", "1")])
        self.assertFalse(changes)
        self.assertEqual(changes, pp.ChangeSet())

    def test_a_name_held_twice_is_gone_once(self) -> None:
        changes = pp.ChangeSet.compare([pp.Held("a", "1"), pp.Held("a", "1")], [])
        self.assertEqual(changes.gone, ["a"])

    def test_unknown_is_one_value(self) -> None:
        self.assertIs(pp.UNKNOWN, _provider._Unknown())
        self.assertEqual(repr(pp.UNKNOWN), "UNKNOWN")


class ProviderDefaultsTest(unittest.TestCase):
    def test_get_matching_lists_then_gets_with_errors_per_name(self) -> None:
        found = Fixed({}).get_matching(pp.Pattern("*"))
        self.assertEqual(found["a"], "1")
        self.assertEqual(found["b"], b"\x00\xff")
        self.assertIsInstance(found["denied"], pp.AccessDenied)
        self.assertIsInstance(found["broken"], pp.BackendError)
        self.assertIn("get broken: the provider raised KeyError", found["broken"].message)
        self.assertNotIn("hunter2", found["broken"].message)

    def test_changes_defaults_to_unknown(self) -> None:
        self.assertIs(Fixed({}).changes([pp.Held("a", None)], [pp.Pattern("*")]), pp.UNKNOWN)


class ExportTest(unittest.TestCase):
    def setUp(self) -> None:
        _provider._exported = None

    def tearDown(self) -> None:
        _provider._exported = None

    def test_export_registers_and_returns_the_class(self) -> None:
        self.assertIs(pp.export(Fixed), Fixed)
        self.assertIs(_provider.exported(), Fixed)
        # Again, the same class: fine (a module imported twice).
        pp.export(Fixed)

    def test_export_works_as_a_decorator(self) -> None:
        @pp.export
        class Decorated(Fixed):
            pass

        self.assertIs(_provider.exported(), Decorated)

    def test_one_provider_per_component(self) -> None:
        pp.export(Fixed)

        class Other(Fixed):
            pass

        with self.assertRaisesRegex(RuntimeError, "Fixed is exported already"):
            pp.export(Other)

    def test_only_complete_provider_classes(self) -> None:
        with self.assertRaisesRegex(TypeError, "subclass of pp_secrets_provider.Provider"):
            pp.export(object)
        with self.assertRaisesRegex(TypeError, "subclass of pp_secrets_provider.Provider"):
            pp.export(Fixed({}))  # type: ignore[arg-type]

        class NoList(pp.Provider):
            def get(self, name: str):
                return ""

        with self.assertRaisesRegex(TypeError, "NoList does not implement list"):
            pp.export(NoList)

    def test_nothing_exported_says_how(self) -> None:
        with self.assertRaisesRegex(
            RuntimeError, r"call pp_secrets_provider.export\(YourProvider\)"
        ):
            _provider.exported()


if __name__ == "__main__":
    unittest.main()
