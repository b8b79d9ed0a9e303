"""The provider class, its values, and change detection."""

from __future__ import annotations

import abc
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Union

from ._errors import ProviderError, unexpected_error
from ._pattern import Pattern

__all__ = [
    "Value",
    "Held",
    "ChangeSet",
    "UNKNOWN",
    "Provider",
    "export",
    "exported",
]


class Value:
    """A secret's value as stored, text (``str``) or bytes, with the
    provider's optional version.

    ``get`` may return a plain ``str`` or ``bytes`` instead: a ``Value`` is
    only needed to give a version. The version is an opaque tag that changes
    whenever the value does (a revision, a file's identity); the host hands
    it back to :meth:`Provider.changes` and compares it for equality only.
    It must not reveal anything about the value (no unkeyed hash of it).

    >>> v = Value("s3cret", version="42")
    >>> v.text, v.version
    ('s3cret', '42')
    >>> Value(b"\\xfe\\xff").is_bytes
    True
    >>> Value("s3cret")
    Value(<text, 6 bytes redacted>)

    ``repr`` shows the kind, the length and the version, never the content.
    """

    __slots__ = ("_data", "_version")

    def __init__(
        self, data: str | bytes | bytearray | memoryview, version: str | None = None
    ) -> None:
        if isinstance(data, str):
            self._data: str | bytes = data
        elif isinstance(data, (bytes, bytearray, memoryview)):
            self._data = bytes(data)
        else:
            raise TypeError(f"a value is str or bytes, not {type(data).__name__}")
        if version is not None and not isinstance(version, str):
            raise TypeError(f"a version is a str or None, not {type(version).__name__}")
        self._version = version

    @classmethod
    def text_or_bytes(cls, raw: bytes, version: str | None = None) -> Value:
        """Text when ``raw`` is UTF-8, bytes otherwise: what a provider
        reading raw data (a file, a binary field) serves."""
        try:
            return cls(bytes(raw).decode("utf-8"), version)
        except UnicodeDecodeError:
            return cls(raw, version)

    @property
    def data(self) -> str | bytes:
        """The value: a ``str`` for text, ``bytes`` for bytes."""
        return self._data

    @property
    def version(self) -> str | None:
        """The version, or ``None`` when the provider keeps none."""
        return self._version

    @property
    def is_bytes(self) -> bool:
        """Whether the value is bytes (which need not be UTF-8)."""
        return isinstance(self._data, bytes)

    @property
    def text(self) -> str | None:
        """The text, or ``None`` when the value is bytes."""
        return None if isinstance(self._data, bytes) else self._data

    def as_bytes(self) -> bytes:
        """The content: a text's UTF-8 bytes, or the bytes."""
        return self._data if isinstance(self._data, bytes) else self._data.encode("utf-8")

    def with_version(self, version: str | None) -> Value:
        """This value with ``version``."""
        return Value(self._data, version)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value):
            return NotImplemented
        return (
            type(self._data) is type(other._data)
            and self._data == other._data
            and self._version == other._version
        )

    def __hash__(self) -> int:
        return hash((self._data, self._version))

    def __repr__(self) -> str:
        kind = "bytes" if self.is_bytes else "text"
        shown = f"<{kind}, {len(self.as_bytes())} bytes redacted>"
        if self._version is None:
            return f"Value({shown})"
        return f"Value({shown}, version={self._version!r})"


class Held(NamedTuple):
    """A secret the host holds, as :meth:`Provider.changes` is asked about
    it."""

    #: The full name.
    name: str
    #: The version it was served with; ``None`` when it came without one.
    version: str | None


class _Unknown:
    """The type of :data:`UNKNOWN`."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


#: What :meth:`Provider.changes` returns when the provider cannot tell what
#: changed: the host then re-reads every held name and every pattern.
UNKNOWN = _Unknown()


@dataclass
class ChangeSet:
    """What changed among the secrets the host holds and the names its
    patterns match, by full name. A name in no list is unchanged."""

    #: Held names whose value is no longer the held version.
    changed: list = field(default_factory=list)
    #: Names the patterns match that the host does not hold.
    added: list = field(default_factory=list)
    #: Held names that no longer exist.
    gone: list = field(default_factory=list)

    @classmethod
    def compare(cls, held: Iterable[Held], current: Iterable[tuple[str, str | None]]) -> ChangeSet:
        """Compares what the host holds with what the provider finds now.

        ``current`` is every name that exists now among the held names and
        the names the patterns match, each with its current version
        (``None`` when the provider cannot tell it); names may repeat. It
        must cover every held name the provider looked at: a held name
        missing from it is gone. A held name whose version differs is
        changed, and so is one where either version is ``None`` (an
        unversioned value cannot be shown unchanged). A name of ``current``
        that is not held is added, so leave out names the patterns do not
        match.

        >>> held = [Held("a", "1"), Held("b", "1"), Held("c", "1")]
        >>> ChangeSet.compare(held, [("a", "1"), ("b", "2"), ("d", "1")])
        ChangeSet(changed=['b'], added=['d'], gone=['c'])
        """
        held = list(held)
        versions = {h.name: h.version for h in held}
        seen: set = set()
        result = cls()
        for name, version in current:
            if name in seen:
                continue
            seen.add(name)
            if name not in versions:
                result.added.append(name)
            else:
                was = versions[name]
                if was is None or version is None or was != version:
                    result.changed.append(name)
        reported: set = set()
        for h in held:
            if h.name not in seen and h.name not in reported:
                reported.add(h.name)
                result.gone.append(h.name)
        return result

    def __bool__(self) -> bool:
        """True when something changed."""
        return bool(self.changed or self.added or self.gone)


#: What ``get`` may return.
GetResult = Union[Value, str, bytes, bytearray, memoryview]  # noqa: UP007 - evaluated at import


class Provider(abc.ABC):
    """A secrets provider: subclass it, implement :meth:`get` and
    :meth:`list`, and :func:`export` the subclass.

    The host creates one instance per sandbox instance, from the backend's
    ``config`` map (``dict[str, str]``); a subclass that needs settings
    defines ``__init__(self, config)`` and raises :class:`BackendError`
    for a bad one (the backend's set-up error). Keep state (parsed files,
    clients, tokens) on ``self``: an instance serves every call until the
    host discards it.

    Names are full names (the host has applied the backend's prefix).
    Raise :class:`NotFound`, :class:`BackendError` or :class:`AccessDenied`
    for what cannot be served. Any other exception becomes a backend error
    naming only its type (see :func:`unexpected_error`).
    """

    def __init__(self, config: Mapping[str, str]) -> None:
        """Sets the provider up from the backend's ``config`` map; the
        default ignores it."""

    @abc.abstractmethod
    def get(self, name: str) -> GetResult:
        """The value stored under the full ``name``: a ``str`` (text),
        ``bytes``, or a :class:`Value` (to give a version). Raise
        :class:`NotFound` when there is none."""

    @abc.abstractmethod
    def list(self, pattern: Pattern) -> Iterable[str]:
        """Every full name matching ``pattern`` (a compiled
        :class:`Pattern`: use ``pattern.matches(name)``), in any order."""

    def get_matching(
        self, pattern: Pattern
    ) -> Mapping[str, GetResult | ProviderError] | Iterable[tuple]:
        """Every name matching ``pattern`` with its value or its own error:
        a mapping (or pairs) of name to value (as :meth:`get` returns) or
        :class:`ProviderError`. Raising means the listing itself failed.

        The default lists, then gets each name; override it when the
        backend can fetch many secrets in one request."""
        found: dict = {}
        for name in self.list(pattern):
            try:
                found[name] = self.get(name)
            except ProviderError as error:
                found[name] = error
            except Exception as error:  # noqa: BLE001 - reported by type only
                found[name] = unexpected_error(error, f"get {name}")
        return found

    def changes(self, held: list, patterns: list):
        """What changed among ``held`` (a list of :class:`Held`: the names
        the host holds, with the versions it was served) and the names
        ``patterns`` (a list of :class:`Pattern`) match: the host's refresh.
        Return a :class:`ChangeSet` (built with :meth:`ChangeSet.compare`)
        or :data:`UNKNOWN`; raising means the check itself failed (the host
        keeps serving what it holds).

        The default answers :data:`UNKNOWN` and the host re-reads
        everything: right for a provider without versions."""
        return UNKNOWN


_exported: type | None = None


def export(provider_class: type) -> type:
    """Makes ``provider_class`` (a subclass of :class:`Provider`) the
    provider of the component built from this module. Call it once, at
    module level (or use it as a class decorator); it returns the class.

    The build command (``python -m pp_secrets_provider build app.py``)
    imports the module and exports what this registered."""
    global _exported
    if not (isinstance(provider_class, type) and issubclass(provider_class, Provider)):
        raise TypeError(
            f"export takes a subclass of pp_secrets_provider.Provider, not {provider_class!r}"
        )
    if inspect.isabstract(provider_class):
        missing = ", ".join(sorted(provider_class.__abstractmethods__))
        raise TypeError(f"{provider_class.__qualname__} does not implement {missing}")
    if _exported is not None and _exported is not provider_class:
        raise RuntimeError(
            f"a component exports one provider: {_exported.__qualname__} is exported "
            f"already, so {provider_class.__qualname__} cannot be"
        )
    _exported = provider_class
    return provider_class


def exported() -> type:
    """The class :func:`export` registered; a ``RuntimeError`` when there
    is none."""
    if _exported is None:
        raise RuntimeError(
            "no provider class is exported: call pp_secrets_provider.export(YourProvider) "
            "in the module you build"
        )
    return _exported
