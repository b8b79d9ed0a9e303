"""The build command's checks and the componentize-py command it runs
(the build itself, ~20 s, is run by tests/run.sh on the example provider)."""

from __future__ import annotations

import tempfile
import unittest
from pathlib import Path
from unittest import mock

import pp_secrets_provider as pp
from pp_secrets_provider import _build
from pp_secrets_provider.__main__ import main


class BuildChecksTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)

    def tearDown(self) -> None:
        self.dir.cleanup()

    def test_the_app_must_be_an_importable_python_file(self) -> None:
        with self.assertRaisesRegex(_build.BuildError, "missing.py: no such file"):
            _build.build(self.root / "missing.py")
        (self.root / "notes.txt").write_text("")
        with self.assertRaisesRegex(_build.BuildError, "notes.txt: not a .py file"):
            _build.build(self.root / "notes.txt")
        (self.root / "my-provider.py").write_text("")
        with self.assertRaisesRegex(_build.BuildError, "'my-provider' is not a module name"):
            _build.build(self.root / "my-provider.py")
        (self.root / "pp_secrets_provider_main.py").write_text("")
        with self.assertRaisesRegex(_build.BuildError, "the SDK's own"):
            _build.build(self.root / "pp_secrets_provider_main.py")

    def test_a_wrong_componentize_py_is_named(self) -> None:
        (self.root / "app.py").write_text("")
        with mock.patch.object(_build.metadata, "version", return_value="0.1.0"):
            with self.assertRaisesRegex(
                _build.BuildError, "built for componentize-py 0.25.1, but 0.1.0"
            ):
                _build.build(self.root / "app.py", self.root / "out.wasm")
        missing = _build.metadata.PackageNotFoundError
        with mock.patch.object(_build.metadata, "version", side_effect=missing):
            with self.assertRaisesRegex(_build.BuildError, "pip install componentize-py==0.25.1"):
                _build.build(self.root / "app.py", self.root / "out.wasm")

    def test_the_command_line_reports_errors_without_a_traceback(self) -> None:
        with mock.patch("sys.stderr") as stderr:
            self.assertEqual(main(["build", str(self.root / "missing.py")]), 1)
        written = "".join(call.args[0] for call in stderr.write.call_args_list)
        self.assertIn("error: ", written)
        self.assertNotIn("Traceback", written)


class CommandTest(unittest.TestCase):
    def test_the_entry_imports_the_app_then_the_resource(self) -> None:
        source = _build._entry_source("app")
        lines = [line for line in source.splitlines() if line and not line.startswith('"')]
        self.assertTrue(lines[0].startswith("import app "), lines)
        self.assertTrue(
            lines[1].startswith("from pp_secrets_provider._component import Provider"), lines
        )
        self.assertEqual(lines[2], "check_exported('app')")
        compile(source, "entry", "exec")

    def test_componentize_py_takes_the_entry_as_the_provider_interface(self) -> None:
        command = _build.componentize_command(
            Path("/entry"), Path("/app"), Path("/out.wasm"), [Path("/deps")], quiet=True
        )
        self.assertEqual(command[command.index("-d") + 1], str(pp.wit_dir()))
        self.assertEqual(command[command.index("-w") + 1], "provider-component")
        self.assertEqual(
            command[command.index("--export-interface-name") + 1],
            "processpype:secrets/provider@0.2.0=pp_secrets_provider_main",
        )
        self.assertIn("-q", command)
        tail = command[command.index("componentize") :]
        self.assertEqual(tail[1], "pp_secrets_provider_main")
        paths = [tail[i + 1] for i, arg in enumerate(tail) if arg == "-p"]
        self.assertEqual(paths[:3], ["/entry", "/app", "/deps"])
        self.assertEqual(Path(paths[3]), Path(pp.__file__).resolve().parent.parent)
        self.assertEqual(tail[-2:], ["-o", "/out.wasm"])


if __name__ == "__main__":
    unittest.main()
