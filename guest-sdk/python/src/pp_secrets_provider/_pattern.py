"""Glob patterns over secret names: the host's dialect, in Python.

The host's matcher is the Rust crate in ``pattern/`` (its module
documentation is the reference). This is the same dialect, written again
for Python guests, and held to the host's behaviour by the shared cases in
``pattern/agreement.json`` (``tests/test_pattern.py``):

=========  ==============================================================
``*``      any run of characters, ``/`` included
``?``      exactly one character (a character, not a byte: ``?`` takes ``é``)
``[abc]``  one character of the set; ranges like ``a-z`` work
``[!abc]`` one character not in the set (``[^abc]`` too)
=========  ==============================================================

Everything else is literal: ``{a,b}``, ``\\``, and an unclosed ``[`` match
themselves. In a class, a ``]`` right after the opening (or after the ``!``
or ``^``) and a ``-`` first or last are members. A range written backwards
(``[z-a]``) is refused. Matching is case-sensitive and covers the whole
name.
"""

from __future__ import annotations

import json

__all__ = ["Pattern", "PatternError"]

# The characters that make a pattern a glob instead of an exact name.
_WILDCARDS = ("*", "?", "[")

# Tokens of a compiled pattern: a literal character is the str itself; these
# two are singletons; a class is a _Class.
_STAR = object()
_ANY = object()


class PatternError(ValueError):
    """A pattern that could not be compiled: a class range written
    backwards (``[z-a]``), which matches nothing and is surely a typo."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"invalid pattern {json.dumps(pattern, ensure_ascii=False)}: {reason}")
        #: The pattern as written.
        self.pattern = pattern
        #: What the matcher complained about.
        self.reason = reason


class _Class:
    """``[...]``: one character in (or, negated, not in) inclusive ranges."""

    __slots__ = ("negated", "ranges")

    def __init__(self, negated: bool, ranges: list[tuple[str, str]]) -> None:
        self.negated = negated
        self.ranges = ranges

    def takes(self, c: str) -> bool:
        return any(lo <= c <= hi for lo, hi in self.ranges) != self.negated


def _class_end(chars: str, start: int) -> int | None:
    """Index of the ``]`` closing the class opened at ``start``: an optional
    ``!`` (or ``^``) and then a ``]`` right after the opening are members,
    not its end. ``None`` when the class is never closed (the ``[`` is then
    a literal)."""
    j = start + 1
    if j < len(chars) and chars[j] in "!^":
        j += 1
    if j < len(chars) and chars[j] == "]":
        j += 1
    end = chars.find("]", j)
    return None if end < 0 else end


def _class(pattern: str, body: str) -> _Class:
    """The class whose text between the brackets is ``body``: ``!`` or ``^``
    first negates; ``a-z`` is a range; a ``-`` first or last, and a ``]``
    first, are themselves; a ``-`` right after a range extends it
    (``[a-c-e]`` is ``a`` to ``e``)."""
    negated = bool(body) and body[0] in "!^"
    if negated:
        body = body[1:]
    ranges: list[tuple[str, str]] = []
    in_range = False
    for c in body:
        if ranges and in_range:
            lo = ranges[-1][0]
            if c < lo:
                raise PatternError(pattern, f"invalid range {lo}-{c}")
            ranges[-1] = (lo, c)
            in_range = False
        elif ranges and c == "-":
            # Only after a member: a `-` first is one itself.
            in_range = True
        else:
            ranges.append((c, c))
    if in_range:
        ranges.append(("-", "-"))
    return _Class(negated, ranges)


def _compile(pattern: str) -> list[object]:
    tokens: list[object] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
        elif c == "?":
            tokens.append(_ANY)
        elif c == "[":
            end = _class_end(pattern, i)
            if end is None:
                tokens.append("[")
            else:
                tokens.append(_class(pattern, pattern[i + 1 : end]))
                i = end
        else:
            tokens.append(c)
        i += 1
    return tokens


def _takes(token: object, c: str) -> bool:
    if token is _ANY:
        return True
    if isinstance(token, _Class):
        return token.takes(c)
    return token == c


def _glob_matches(tokens: list[object], name: str) -> bool:
    """Whether the whole of ``name`` matches. Tokens other than ``*`` take
    exactly one character, so on a mismatch only the latest ``*`` needs to
    take one more character and retry: at most (pattern length x name
    length) steps, never exponential."""
    t = n = 0
    # The token after the latest `*`, and where in `name` it was last tried.
    retry: tuple[int, int] | None = None
    while True:
        if t < len(tokens) and tokens[t] is _STAR:
            retry = (t + 1, n)
            t += 1
            continue
        if t < len(tokens) and n < len(name) and _takes(tokens[t], name[n]):
            t += 1
            n += 1
            continue
        if t == len(tokens) and n == len(name):
            return True
        # A mismatch: let the latest `*` take one more character.
        if retry is None or retry[1] >= len(name):
            return False
        t, n = retry[0], retry[1] + 1
        retry = (t, n)


class Pattern:
    """A compiled glob pattern, or an exact name.

    >>> p = Pattern("db_*")
    >>> p.matches("db_password"), p.matches("DB_PASSWORD")
    (True, False)
    >>> p.literal_prefix
    'db_'
    >>> Pattern("API_KEY").is_exact
    True
    """

    __slots__ = ("_source", "_kind", "_data")

    def __init__(self, pattern: str) -> None:
        """Compiles ``pattern``; raises :class:`PatternError` for a class
        range written backwards."""
        if not isinstance(pattern, str):
            raise TypeError(f"a pattern is a str, not {type(pattern).__name__}")
        self._source = pattern
        literal = pattern.rstrip("*")
        if not _is_glob(pattern):
            self._kind, self._data = "exact", None
        elif len(literal) < len(pattern) and not _is_glob(literal):
            # `*` and `literal*`: a string comparison is enough.
            self._kind, self._data = "prefix", literal
        else:
            self._kind, self._data = "glob", _compile(pattern)

    @classmethod
    def exact(cls, name: str) -> Pattern:
        """A pattern that matches exactly ``name``, even when it contains
        wildcard characters."""
        pattern = cls("")
        pattern._source = name
        return pattern

    def matches(self, name: str) -> bool:
        """Whether ``name`` matches the whole pattern."""
        if self._kind == "exact":
            return name == self._source
        if self._kind == "prefix":
            return name.startswith(self._data)  # type: ignore[arg-type]
        return _glob_matches(self._data, name)  # type: ignore[arg-type]

    def filter(self, names):
        """The names (any iterable of ``str``) that match, in their order."""
        return [name for name in names if self.matches(name)]

    @property
    def source(self) -> str:
        """The pattern as written."""
        return self._source

    @property
    def is_exact(self) -> bool:
        """True when the pattern has no wildcard and names exactly one
        secret."""
        return self._kind == "exact"

    @property
    def literal_prefix(self) -> str:
        """The literal text before the first wildcard (the whole pattern
        when it is exact). Every matching name starts with it, so a backend
        can use it as a server-side prefix filter."""
        if self.is_exact:
            return self._source
        ends = [i for i in (self._source.find(w) for w in _WILDCARDS) if i >= 0]
        return self._source[: min(ends)] if ends else self._source

    def __str__(self) -> str:
        return self._source

    def __repr__(self) -> str:
        return f"Pattern({self._source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Pattern):
            return NotImplemented
        return self._source == other._source and self.is_exact == other.is_exact

    def __hash__(self) -> int:
        return hash((self._source, self.is_exact))


def _is_glob(pattern: str) -> bool:
    return any(w in pattern for w in _WILDCARDS)
