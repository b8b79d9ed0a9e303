"""The WIT shipped in the package is the repository's ``wit/``.

The package carries its own copy (``src/pp_secrets_provider/wit/``) so that
it installs and builds anywhere: from this checkout, from a wheel, or from
a git URL's ``guest-sdk/python`` subdirectory, none of which can reach
``../../wit`` at build time. This test keeps the copy honest: every file of
``wit/`` (the current package and its ``deps/``; the kept older versions,
``wit/v*``, are not the SDK's) must be in the copy, byte for byte, and the
copy must hold nothing else. After a change to ``wit/``, refresh it from
the repository root with

    rm -r guest-sdk/python/src/pp_secrets_provider/wit
    mkdir guest-sdk/python/src/pp_secrets_provider/wit
    cp -r wit/*.wit wit/deps guest-sdk/python/src/pp_secrets_provider/wit/
"""

from __future__ import annotations

import unittest
from pathlib import Path

import pp_secrets_provider as pp

REPOSITORY_WIT = Path(__file__).resolve().parents[3] / "wit"


def wit_files(root: Path) -> dict:
    """The files under ``root`` (relative path to content), without the
    older versions kept in ``v*`` directories."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0].startswith("v") and (root / relative.parts[0]).is_dir():
            continue
        if path.is_file() and "__pycache__" not in relative.parts:
            files[relative.as_posix()] = path.read_bytes()
    return files


class WitCopyTest(unittest.TestCase):
    def test_the_shipped_wit_is_the_repositorys(self) -> None:
        repository = wit_files(REPOSITORY_WIT)
        shipped = wit_files(pp.wit_dir())
        self.assertIn("provider.wit", repository)
        self.assertIn("types.wit", repository)
        how = "refresh the copy as the module documentation of this test says"
        self.assertEqual(sorted(shipped), sorted(repository), f"the files differ: {how}")
        for name, content in repository.items():
            self.assertEqual(shipped[name], content, f"{name} differs: {how}")

    def test_the_shipped_wit_is_the_version_the_sdk_names(self) -> None:
        text = (pp.wit_dir() / "provider.wit").read_text(encoding="utf-8")
        self.assertIn(f"package {pp.WIT_PACKAGE};", text)
        self.assertIn(f"world {pp.WORLD} {{", text)


if __name__ == "__main__":
    unittest.main()
