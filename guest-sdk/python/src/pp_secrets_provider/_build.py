"""The build command: componentize-py, run the way a provider needs.

componentize-py looks for the class of an exported resource in a module
named after its interface, and runs the application module's top level at
build time. The build writes a small entry module to a temporary directory
that imports the provider's module (whose :func:`export` call registers its
class) and then the SDK's ``provider`` resource, and has componentize-py
take that module as both the application and the ``provider`` interface
(``--export-interface-name``). The provider's module stays plain Python,
and a module of the author's that happens to be named ``provider`` does not
collide with anything.
"""

from __future__ import annotations

import keyword
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from . import COMPONENTIZE_PY_VERSION, WIT_PACKAGE, WORLD, wit_dir

__all__ = ["BuildError", "build", "componentize_command"]

#: The entry module the build writes; also the ``provider`` interface's
#: module name inside the component.
ENTRY_MODULE = "pp_secrets_provider_main"


class BuildError(Exception):
    """The build could not start or componentize-py failed."""


def _entry_source(module: str) -> str:
    return (
        '"""The component\'s entry, written by `python -m pp_secrets_provider build`."""\n\n'
        f"import {module}  # noqa: F401 - its export() call registers the provider class\n"
        "from pp_secrets_provider._component import Provider, check_exported  # noqa: F401\n\n"
        f"check_exported({module!r})\n"
    )


def componentize_command(
    entry_dir: Path, app_dir: Path, output: Path, extra_paths: list[Path], quiet: bool
) -> list[str]:
    """The componentize-py command line that builds ``output``, run by this
    interpreter (so the componentize-py installed beside the SDK is the one
    used)."""
    interface = WIT_PACKAGE.replace("@", "/provider@", 1)
    sdk_parent = Path(__file__).resolve().parent.parent
    command = [
        sys.executable,
        "-c",
        "import sys, componentize_py; sys.exit(componentize_py.script())",
        "-d",
        str(wit_dir()),
        "-w",
        WORLD,
        "--export-interface-name",
        f"{interface}={ENTRY_MODULE}",
    ]
    if quiet:
        command.append("-q")
    command += ["componentize", ENTRY_MODULE, "-p", str(entry_dir), "-p", str(app_dir)]
    for path in [*extra_paths, sdk_parent]:
        command += ["-p", str(path)]
    command += ["-o", str(output)]
    return command


def _check_componentize_py() -> None:
    try:
        found = metadata.version("componentize-py")
    except metadata.PackageNotFoundError:
        raise BuildError(
            f"componentize-py is not installed for {sys.executable}: "
            f"pip install componentize-py=={COMPONENTIZE_PY_VERSION}"
        ) from None
    if found != COMPONENTIZE_PY_VERSION:
        raise BuildError(
            f"this SDK is built for componentize-py {COMPONENTIZE_PY_VERSION}, but "
            f"{found} is installed: pip install componentize-py=={COMPONENTIZE_PY_VERSION}"
        )


def build(
    app: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    extra_paths: list | None = None,
    quiet: bool = False,
) -> Path:
    """Builds the provider module ``app`` (a ``.py`` file that calls
    :func:`pp_secrets_provider.export`) into the component ``output``
    (default: ``app``'s name with ``.wasm``, in the current directory), and
    returns its path."""
    app_path = Path(app)
    if app_path.suffix != ".py":
        raise BuildError(f"{app_path}: not a .py file (give the provider's module)")
    if not app_path.is_file():
        raise BuildError(f"{app_path}: no such file")
    module = app_path.stem
    if not module.isidentifier() or keyword.iskeyword(module):
        raise BuildError(
            f"{app_path}: {module!r} is not a module name Python can import; rename the file"
        )
    if module in (ENTRY_MODULE, "pp_secrets_provider"):
        raise BuildError(
            f"{app_path}: the module name {module!r} is the SDK's own; rename the file"
        )
    out = Path(output) if output is not None else Path(f"{module}.wasm")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [Path(p).resolve() for p in extra_paths or []]
    for path in paths:
        if not path.is_dir():
            raise BuildError(f"{path}: not a directory")
    _check_componentize_py()

    env = dict(os.environ)
    # componentize-py bundles the site-packages of VIRTUAL_ENV, else of the
    # `python3` on the PATH: point it at the interpreter running the build.
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    # A failed build's own message is what helps, not the Rust backtrace.
    env["RUST_BACKTRACE"] = "0"
    env["RUST_LIB_BACKTRACE"] = "0"
    with tempfile.TemporaryDirectory(prefix="pp-secrets-provider-build-") as entry_dir:
        Path(entry_dir, f"{ENTRY_MODULE}.py").write_text(_entry_source(module), encoding="utf-8")
        command = componentize_command(
            Path(entry_dir), app_path.resolve().parent, out, paths, quiet
        )
        finished = subprocess.run(command, env=env, check=False)
    if finished.returncode != 0:
        raise BuildError(f"componentize-py failed building {app_path} (exit {finished.returncode})")
    if not out.is_file():
        raise BuildError(f"componentize-py wrote no {out}")
    return out
