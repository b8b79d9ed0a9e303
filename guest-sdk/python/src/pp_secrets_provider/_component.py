"""The component's side: the WIT ``provider`` resource, serving the class
:func:`export` registered.

Imported only where the bindings componentize-py generates from ``wit/``
exist: inside the component (the build command's entry module imports it)
and in the SDK's tests, which generate them. Everything the provider
returns is converted to the WIT types here and checked on the way: a wrong
type becomes a backend error that says what was wrong (never a value). Any
exception other than the SDK's own becomes a backend error naming its type
only (:func:`unexpected_error`), so no message or traceback, which could
quote a value, leaves the guest.
"""

from __future__ import annotations

from collections.abc import Mapping

from componentize_py_types import Err, Ok
from wit_world.imports import types as wit

from ._errors import BackendError, ProviderError, unexpected_error
from ._pattern import Pattern, PatternError
from ._provider import UNKNOWN, ChangeSet, Held, Value, exported

__all__ = ["Provider", "check_exported"]


def check_exported(module: str) -> None:
    """Fails the build, naming ``module``, when it exported no provider."""
    try:
        exported()
    except RuntimeError:
        raise RuntimeError(
            f"{module} exports no provider: call pp_secrets_provider.export(YourProvider) "
            "at module level"
        ) from None


def _wit_error(error: ProviderError) -> wit.Error:
    if error.kind == "not-found":
        return wit.Error_NotFound(error.message)
    if error.kind == "access-denied":
        return wit.Error_AccessDenied(error.message)
    return wit.Error_Backend(error.message)


def _failure(error: Exception, during: str) -> Err:
    """The ``Err`` a call raises for ``error``."""
    if isinstance(error, ProviderError):
        return Err(_wit_error(error))
    return Err(_wit_error(unexpected_error(error, during)))


def _versioned(value: object, during: str) -> wit.VersionedValue:
    """``value`` (a :class:`Value`, ``str`` or bytes) as WIT's
    ``versioned-value``; a :class:`BackendError` for anything else."""
    if not isinstance(value, Value):
        try:
            value = Value(value)  # type: ignore[arg-type]
        except TypeError:
            raise BackendError(
                f"{during}: the provider returned {type(value).__name__}, not a Value, str or bytes"
            ) from None
    stored = (
        wit.StoredValue_Bytes(value.data)
        if isinstance(value.data, bytes)
        else wit.StoredValue_Text(value.data)
    )
    return wit.VersionedValue(stored, value.version)


def _names(names: object, during: str) -> list:
    """``names`` as a list of ``str``; a :class:`BackendError` otherwise."""
    if isinstance(names, (str, bytes)):
        raise BackendError(
            f"{during}: the provider returned one {type(names).__name__}, not a list of names"
        )
    try:
        listed = list(names)  # type: ignore[call-overload]
    except TypeError:
        raise BackendError(
            f"{during}: the provider returned {type(names).__name__}, not a list of names"
        ) from None
    for name in listed:
        if not isinstance(name, str):
            raise BackendError(
                f"{during}: the provider returned a name of type {type(name).__name__}, not str"
            )
    return listed


def _pattern(text: str) -> Pattern:
    try:
        return Pattern(text)
    except PatternError as error:
        raise BackendError(str(error)) from None


class Provider:
    """The WIT ``provider`` resource (``wit/provider.wit``): one instance
    of the exported class."""

    def __init__(self, provider: object) -> None:
        self._provider = provider

    @classmethod
    def create(cls, config: list) -> Provider:
        during = "set-up"
        try:
            provider_class = exported()
            during = f"{provider_class.__qualname__}(config)"
            return cls(provider_class(dict(config)))
        except Exception as error:  # noqa: BLE001 - reported by type only
            raise _failure(error, during) from None

    def get(self, name: str) -> wit.VersionedValue:
        during = f"get {name}"
        try:
            return _versioned(self._provider.get(name), during)  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001
            raise _failure(error, during) from None

    def list(self, pattern: str) -> list:
        during = f"list {pattern}"
        try:
            return _names(self._provider.list(_pattern(pattern)), during)  # type: ignore[attr-defined]
        except Exception as error:  # noqa: BLE001
            raise _failure(error, during) from None

    def get_matching(self, pattern: str) -> list:
        during = f"get-matching {pattern}"
        try:
            found = self._provider.get_matching(_pattern(pattern))  # type: ignore[attr-defined]
            pairs = found.items() if isinstance(found, Mapping) else found
            matched = []
            for pair in pairs:
                try:
                    name, value = pair
                except (TypeError, ValueError):
                    raise BackendError(
                        f"{during}: the provider returned {type(pair).__name__} "
                        "where a (name, value) pair belongs"
                    ) from None
                if not isinstance(name, str):
                    raise BackendError(
                        f"{during}: the provider returned a name of type "
                        f"{type(name).__name__}, not str"
                    )
                if isinstance(value, ProviderError):
                    result = Err(_wit_error(value))
                else:
                    try:
                        result = Ok(_versioned(value, f"get-matching {name}"))
                    except BackendError as error:
                        # A value of the wrong type fails its own name.
                        result = Err(_wit_error(error))
                matched.append(wit.MatchedSecret(name, result))
            return matched
        except Exception as error:  # noqa: BLE001
            raise _failure(error, during) from None

    def changes(self, held: list, patterns: list) -> wit.Changes:
        during = "changes"
        try:
            answer = self._provider.changes(  # type: ignore[attr-defined]
                [Held(h.name, h.version) for h in held], [_pattern(p) for p in patterns]
            )
            if answer is None or answer is UNKNOWN:
                return wit.Changes_Unknown()
            if not isinstance(answer, ChangeSet):
                raise BackendError(
                    f"{during}: the provider returned {type(answer).__name__}, "
                    "not a ChangeSet or UNKNOWN"
                )
            return wit.Changes_Known(
                wit.ChangeSet(
                    _names(answer.changed, f"{during} (changed)"),
                    _names(answer.added, f"{during} (added)"),
                    _names(answer.gone, f"{during} (gone)"),
                )
            )
        except Exception as error:  # noqa: BLE001
            raise _failure(error, during) from None
