"""Why a request could not be served: the exceptions a provider raises.

Each maps to a case of the WIT ``error`` variant (``wit/types.wit``). Their
messages are shown to operators and written to the host's log: never put a
secret value in one.
"""

from __future__ import annotations

__all__ = [
    "ProviderError",
    "NotFound",
    "BackendError",
    "AccessDenied",
    "unexpected_error",
]


class ProviderError(Exception):
    """A request that could not be served; the base of :class:`NotFound`,
    :class:`BackendError` and :class:`AccessDenied`. Raised as it is, it is
    a backend error."""

    #: The case of the WIT ``error`` variant this exception becomes.
    kind = "backend"

    def __init__(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError(f"an error message is a str, not {type(message).__name__}")
        super().__init__(message)
        #: The message for people (never a secret value).
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(ProviderError):
    """The secret ``name`` does not exist (WIT ``error::not-found``).

    >>> NotFound("db_password").message
    'db_password not found'
    """

    kind = "not-found"

    def __init__(self, name: str, message: str | None = None) -> None:
        #: The name that was looked up.
        self.name = name
        super().__init__(f"{name} not found" if message is None else message)

    def __repr__(self) -> str:
        return f"NotFound({self.name!r}, {self.message!r})"


class BackendError(ProviderError):
    """The provider failed: I/O, network, authentication, bad data (WIT
    ``error::backend``). Also what a failed set-up raises."""

    kind = "backend"


class AccessDenied(ProviderError):
    """The provider may not read this secret: the backend refused its
    credentials (WIT ``error::access-denied``)."""

    kind = "access-denied"


def unexpected_error(error: BaseException, during: str) -> BackendError:
    """The backend error that stands for an exception a provider did not
    mean to raise (a ``KeyError``, a ``TypeError``, a bug).

    It names the exception's type and ``during`` (what was being done, for
    example ``get app/token``), and nothing else: an exception's message or
    traceback can quote the data it failed on, which may be a secret value,
    so neither leaves the guest (not even to its log).
    """
    kind = type(error)
    module = kind.__module__
    type_name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return BackendError(
        f"{during}: the provider raised {type_name} (its message is not shown: "
        "it could contain a secret value)"
    )
