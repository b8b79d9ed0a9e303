"""``python -m pp_secrets_provider``: build a provider component.

    python -m pp_secrets_provider build app.py -o provider.wasm
    python -m pp_secrets_provider wit

``build`` runs componentize-py on the module ``app.py`` (which calls
``pp_secrets_provider.export``) against the WIT shipped in this package,
world ``provider-component``. ``wit`` prints that WIT directory (for
``componentize-py -d DIR -w provider-component bindings OUT``, which gives an
editor the generated types).
"""

from __future__ import annotations

import argparse
import sys

from . import wit_dir
from ._build import BuildError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pp_secrets_provider",
        description="Build pp-secrets provider components from Python.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser(
        "build",
        help="build a provider component from a Python module",
        description=(
            "Build APP (a .py file that calls pp_secrets_provider.export) into a "
            "WebAssembly component of processpype:secrets@0.2.0 with componentize-py."
        ),
    )
    build_command.add_argument("app", help="the provider's module, a .py file")
    build_command.add_argument(
        "-o",
        "--output",
        help="the component to write (default: APP's name with .wasm, in the current directory)",
    )
    build_command.add_argument(
        "-p",
        "--python-path",
        action="append",
        default=[],
        metavar="DIR",
        help="another directory of pure-Python modules to bundle (repeatable); "
        "the running interpreter's site-packages are searched already",
    )
    build_command.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors"
    )
    commands.add_parser("wit", help="print the directory of the WIT package the SDK targets")
    args = parser.parse_args(argv)
    if args.command == "wit":
        print(wit_dir())
        return 0
    try:
        output = build(args.app, args.output, extra_paths=args.python_path, quiet=args.quiet)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"built {output} ({output.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
