"""Write pp-secrets providers in Python, built into WebAssembly components
by componentize-py.

A provider is one class:

.. code-block:: python

    import pp_secrets_provider as pp

    class FromConfig(pp.Provider):
        def __init__(self, config: dict[str, str]) -> None:
            self.values = {k[len("secret."):]: v for k, v in config.items()
                           if k.startswith("secret.")}

        def get(self, name: str) -> pp.Value | str | bytes:
            if name not in self.values:
                raise pp.NotFound(name)
            return self.values[name]

        def list(self, pattern: pp.Pattern) -> list[str]:
            return pattern.filter(self.values)

    pp.export(FromConfig)

built with ``python -m pp_secrets_provider build app.py -o provider.wasm``
into a component of ``processpype:secrets@0.2.0`` (world
``provider-component``; the WIT ships inside this package, see
:func:`wit_dir`). The host creates one instance per sandbox instance from
the backend's ``config`` map, then calls ``get``, ``list``,
``get_matching`` and ``changes`` with full names and patterns (the backend's
prefix applied).

- Values are ``str`` (text; the host reads a text holding a JSON object as
  an object) or ``bytes``; return a :class:`Value` to give a version.
- Errors are exceptions: :class:`NotFound`, :class:`BackendError`,
  :class:`AccessDenied`. Their messages are shown to operators and logged:
  never put a value in one. Any other exception becomes a backend error
  naming its type only, never its message or traceback (they can quote the
  data that failed, which may be a secret).
- :class:`Pattern` is the host's glob dialect (``*`` also matches ``/``).
- ``get_matching`` defaults to ``list`` then ``get`` for each name;
  ``changes`` defaults to :data:`UNKNOWN` (the host re-reads). Override
  them when the backend can do better; :meth:`ChangeSet.compare` builds a
  change check's answer.

Module-level code runs when the component is *built* (componentize-py
snapshots the initialised module): read files, variables and clocks in
``__init__`` or the methods, never at import.
"""

from __future__ import annotations

from pathlib import Path

from ._errors import (
    AccessDenied,
    BackendError,
    NotFound,
    ProviderError,
    unexpected_error,
)
from ._pattern import Pattern, PatternError
from ._provider import UNKNOWN, ChangeSet, Held, Provider, Value, export

__all__ = [
    "AccessDenied",
    "BackendError",
    "ChangeSet",
    "Held",
    "NotFound",
    "Pattern",
    "PatternError",
    "Provider",
    "ProviderError",
    "UNKNOWN",
    "Value",
    "WIT_PACKAGE",
    "WORLD",
    "COMPONENTIZE_PY_VERSION",
    "export",
    "unexpected_error",
    "wit_dir",
]

__version__ = "0.2.0"

#: The WIT package the components target.
WIT_PACKAGE = "processpype:secrets@0.2.0"
#: The world they are built as.
WORLD = "provider-component"
#: The componentize-py release the SDK is built and tested with: its
#: generated bindings are what the component side of the SDK speaks.
COMPONENTIZE_PY_VERSION = "0.25.1"


def wit_dir() -> Path:
    """The directory of the WIT package this SDK targets: a copy of the
    repository's ``wit/`` shipped inside the package (for
    ``componentize-py bindings``, to give an editor the generated types)."""
    return Path(__file__).resolve().parent / "wit"
