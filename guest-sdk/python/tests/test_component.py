"""The component side of the SDK (``_component``: the WIT ``provider``
resource) against the bindings componentize-py really generates from the
WIT shipped in the package, driven natively.

componentize-py must be installed beside this interpreter (tests/run.sh
installs it): without it these tests skip, saying so, and fail under
``CI=true``.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import unittest

import pp_secrets_provider as pp
from pp_secrets_provider import _provider

_bindings_dir = tempfile.TemporaryDirectory(prefix="pp-secrets-bindings-")
component = None
wit = None
Err = Ok = None


def setUpModule() -> None:
    global component, wit, Err, Ok
    try:
        import componentize_py  # noqa: F401
    except ImportError:
        message = (
            f"componentize-py is not installed for {sys.executable}: "
            f"pip install componentize-py=={pp.COMPONENTIZE_PY_VERSION} (tests/run.sh does)"
        )
        if os.environ.get("CI") == "true":
            raise RuntimeError(message) from None
        print(f"\n*** SKIPPING the component tests: {message} ***\n", file=sys.stderr)
        raise unittest.SkipTest(message) from None
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, componentize_py; sys.exit(componentize_py.script())",
            "-d",
            str(pp.wit_dir()),
            "-w",
            pp.WORLD,
            "-q",
            "bindings",
            os.path.join(_bindings_dir.name, "out"),
        ],
        check=True,
    )
    sys.path.insert(0, os.path.join(_bindings_dir.name, "out"))
    component = importlib.import_module("pp_secrets_provider._component")
    wit = importlib.import_module("wit_world.imports.types")
    types = importlib.import_module("componentize_py_types")
    Err, Ok = types.Err, types.Ok


def tearDownModule() -> None:
    _bindings_dir.cleanup()


class Sample(pp.Provider):
    """A provider that does each thing the adapter must handle."""

    def __init__(self, config: dict) -> None:
        if "fail" in config:
            raise pp.BackendError("config: fail is set")
        if "crash" in config:
            # A bug whose message quotes a config value.
            int(config["crash"])
        self.config = config

    def get(self, name: str):
        if name == "text":
            return "hello"
        if name == "bytes":
            return b"\xfe\xff\x00"
        if name == "versioned":
            return pp.Value("v", version="7")
        if name == "denied":
            raise pp.AccessDenied("not granted")
        if name == "wrong-type":
            return 42
        if name == "crash":
            return {"k": "hunter2"}["hunter2"]
        raise pp.NotFound(name)

    def list(self, pattern: pp.Pattern):
        if pattern.source == "wrong":
            return [b"bytes-name"]
        if pattern.source == "one-string":
            return "text"
        return pattern.filter(["text", "bytes", "versioned", "denied", "wrong-type", "crash"])

    def changes(self, held: list, patterns: list):
        if patterns and patterns[0].source == "unknown":
            return None
        if patterns and patterns[0].source == "wrong":
            return {"changed": []}
        if patterns and patterns[0].source == "crash":
            raise ValueError("hunter2")
        current = [(h.name, "1") for h in held if h.name != "gone"]
        current += [("new", None)] if any(p.matches("new") for p in patterns) else []
        return pp.ChangeSet.compare(held, current)


class ComponentTest(unittest.TestCase):
    def setUp(self) -> None:
        _provider._exported = None
        pp.export(Sample)
        self.provider = component.Provider.create([("a", "1")])

    def tearDown(self) -> None:
        _provider._exported = None

    def error_of(self, call, *args):
        """The WIT error a call raises (as componentize-py expects it: an
        ``Err`` exception)."""
        with self.assertRaises(Err) as caught:
            call(*args)
        return caught.exception.value

    def test_create_passes_the_config_as_a_dict(self) -> None:
        self.assertEqual(self.provider._provider.config, {"a": "1"})

    def test_create_errors(self) -> None:
        error = self.error_of(component.Provider.create, [("fail", "")])
        self.assertEqual(error, wit.Error_Backend("config: fail is set"))
        error = self.error_of(component.Provider.create, [("crash", "hunter2")])
        self.assertIsInstance(error, wit.Error_Backend)
        self.assertIn("Sample(config): the provider raised ValueError", error.value)
        self.assertNotIn("hunter2", error.value)

    def test_create_without_an_export_fails_set_up(self) -> None:
        _provider._exported = None
        error = self.error_of(component.Provider.create, [])
        self.assertIsInstance(error, wit.Error_Backend)
        self.assertIn("RuntimeError", error.value)

    def test_values(self) -> None:
        self.assertEqual(
            self.provider.get("text"), wit.VersionedValue(wit.StoredValue_Text("hello"), None)
        )
        self.assertEqual(
            self.provider.get("bytes"),
            wit.VersionedValue(wit.StoredValue_Bytes(b"\xfe\xff\x00"), None),
        )
        self.assertEqual(
            self.provider.get("versioned"), wit.VersionedValue(wit.StoredValue_Text("v"), "7")
        )

    def test_errors_map_to_their_cases(self) -> None:
        self.assertEqual(
            self.error_of(self.provider.get, "nope"), wit.Error_NotFound("nope not found")
        )
        self.assertEqual(
            self.error_of(self.provider.get, "denied"), wit.Error_AccessDenied("not granted")
        )

    def test_an_unexpected_exception_is_a_backend_error_without_its_message(self) -> None:
        error = self.error_of(self.provider.get, "crash")
        self.assertIsInstance(error, wit.Error_Backend)
        self.assertEqual(
            error.value,
            "get crash: the provider raised KeyError (its message is not shown: "
            "it could contain a secret value)",
        )

    def test_a_wrong_return_type_is_named(self) -> None:
        error = self.error_of(self.provider.get, "wrong-type")
        self.assertEqual(
            error,
            wit.Error_Backend(
                "get wrong-type: the provider returned int, not a Value, str or bytes"
            ),
        )
        error = self.error_of(self.provider.list, "wrong")
        self.assertEqual(
            error,
            wit.Error_Backend("list wrong: the provider returned a name of type bytes, not str"),
        )
        error = self.error_of(self.provider.list, "one-string")
        self.assertIn("returned one str, not a list of names", error.value)

    def test_list_takes_the_hosts_globs(self) -> None:
        self.assertEqual(
            self.provider.list("*e*"), ["text", "bytes", "versioned", "denied", "wrong-type"]
        )
        self.assertEqual(self.provider.list("[bt]*"), ["text", "bytes"])
        error = self.error_of(self.provider.list, "[z-a]")
        self.assertEqual(error, wit.Error_Backend('invalid pattern "[z-a]": invalid range z-a'))

    def test_get_matching_gives_each_name_its_value_or_error(self) -> None:
        matched = {m.name: m.value for m in self.provider.get_matching("*")}
        self.assertEqual(
            matched["text"], Ok(wit.VersionedValue(wit.StoredValue_Text("hello"), None))
        )
        self.assertEqual(
            matched["versioned"], Ok(wit.VersionedValue(wit.StoredValue_Text("v"), "7"))
        )
        self.assertEqual(matched["denied"], Err(wit.Error_AccessDenied("not granted")))
        self.assertIsInstance(matched["crash"].value, wit.Error_Backend)
        self.assertNotIn("hunter2", matched["crash"].value.value)
        self.assertEqual(
            matched["wrong-type"],
            Err(
                wit.Error_Backend(
                    "get-matching wrong-type: the provider returned int, not a Value, str or bytes"
                )
            ),
        )
        self.assertEqual(len(matched), 6)

    def test_get_matching_checks_its_pairs(self) -> None:
        _provider._exported = None

        class Pairs(Sample):
            def get_matching(self, pattern: pp.Pattern):
                if pattern.source == "pairs":
                    return [("text", "x"), ("bytes", pp.NotFound("bytes"))]
                if pattern.source == "bad-name":
                    return {1: "x"}
                return [("only-a-name",)]

        pp.export(Pairs)
        provider = component.Provider.create([])
        self.assertEqual(
            provider.get_matching("pairs"),
            [
                wit.MatchedSecret("text", Ok(wit.VersionedValue(wit.StoredValue_Text("x"), None))),
                wit.MatchedSecret("bytes", Err(wit.Error_NotFound("bytes not found"))),
            ],
        )
        error = self.error_of(provider.get_matching, "bad-name")
        self.assertIn("a name of type int", error.value)
        error = self.error_of(provider.get_matching, "other")
        self.assertIn("returned tuple where a (name, value) pair belongs", error.value)

    def test_changes(self) -> None:
        held = [
            wit.HeldSecret("kept", "1"),
            wit.HeldSecret("bumped", "0"),
            wit.HeldSecret("gone", "1"),
        ]
        answer = self.provider.changes(held, ["n*"])
        self.assertEqual(answer, wit.Changes_Known(wit.ChangeSet(["bumped"], ["new"], ["gone"])))
        self.assertEqual(self.provider.changes(held, ["unknown"]), wit.Changes_Unknown())
        self.assertIsInstance(
            self.error_of(self.provider.changes, held, ["wrong"]), wit.Error_Backend
        )
        error = self.error_of(self.provider.changes, held, ["crash"])
        self.assertIn("changes: the provider raised ValueError", error.value)
        self.assertNotIn("hunter2", error.value)

    def test_the_default_changes_is_unknown(self) -> None:
        _provider._exported = None

        class Plain(pp.Provider):
            def get(self, name: str):
                raise pp.NotFound(name)

            def list(self, pattern: pp.Pattern):
                return []

        pp.export(Plain)
        provider = component.Provider.create([])
        self.assertEqual(
            provider.changes([wit.HeldSecret("a", None)], ["*"]), wit.Changes_Unknown()
        )
        self.assertEqual(provider.get_matching("*"), [])

    def test_check_exported_names_the_module(self) -> None:
        _provider._exported = None
        with self.assertRaisesRegex(RuntimeError, "app exports no provider"):
            component.check_exported("app")


if __name__ == "__main__":
    unittest.main()
