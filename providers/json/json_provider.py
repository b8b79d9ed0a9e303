"""A pp-secrets provider, in Python, serving a JSON secrets file.

Configured as a ``type: wasm`` backend (see README.md beside this file):
``config: { file: /abs/path/secrets.json }`` with the file's directory in
``allow.dirs``. Built with the Python SDK (``guest-sdk/python``):
``python -m pp_secrets_provider build providers/json/json_provider.py -o
target/components/json_provider.wasm``.

The file is a JSON object. A string is a text value; nested objects make
names with ``/`` (``{"app": {"db": {"password": "x"}}}`` serves
``app/db/password``); an object whose only key is ``$base64``, with a string
of standard base64 (with padding), is a bytes value. Numbers, ``true``,
``false`` and ``null`` are served as their JSON text (a number exactly as
written), arrays as their compact JSON text. The names are exactly the leaf
paths: an object is not itself a secret.

The file is read at set-up and again whenever its identity (size,
modification and status-change times, inode) differs from the one read:
every call ``stat``s it first. Two writes within one tick of the file
system's clock can leave the same identity, so a read is kept only when
the file last changed at least ``SETTLED_SECONDS`` before it: a file
changed a moment ago is read on every call. A value's version is the
identity of a kept read (none otherwise). A change check answers from one
``stat`` when the identity is the one the held versions carry, and
otherwise reads the file once.

Every error names the file and the key path or line (never a value).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time

import pp_secrets_provider as pp

#: How long after its last change a file's times can be trusted to show
#: a later change.
SETTLED_SECONDS = 2
#: The largest file read, in bytes: the default sandbox has 64 MiB for the
#: interpreter, the file, the parsed tree and the values.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: How deep objects and arrays may nest.
MAX_DEPTH = 64
#: The settings ``config`` may have.
SETTINGS = ("file",)


class _Number(str):
    """A JSON number, as written in the file."""


def _quote(text: str) -> str:
    """``text`` as a JSON string (for a key path in a message)."""
    return json.dumps(text, ensure_ascii=False)


def _where(path: str) -> str:
    """A key path (keys joined with ``/``) for a message, quoted."""
    return _quote(path) if path else "the top level"


def _compact(value: object) -> str:
    """An array (or anything in one) as compact JSON text, numbers as
    written."""
    if isinstance(value, _Number):
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, _Object):
        return "{" + ",".join(_quote(k) + ":" + _compact(v) for k, v in value) + "}"
    return "[" + ",".join(_compact(v) for v in value) + "]"


class FormatError(Exception):
    """The file is not a secrets file: what is wrong and where (a line, a
    key path), never a value."""


def _refuse_constant(name: str) -> object:
    raise FormatError(f"{name} is not a JSON number")


class _Object(list):
    """A JSON object: its (key, value) pairs, in order (kept as pairs so
    that a duplicate key can be found, and named with its path)."""


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _check_text(text: str, path: str, what: str) -> None:
    """Refuses (by key path) a text that cannot be UTF-8: a JSON escape of
    a lone surrogate (``\\ud800``) is no Unicode character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError(
            f"{what} at {_where(path)} has an escaped lone surrogate (\\ud800-\\udfff), "
            "which is not Unicode text"
        ) from None


def _reason(message: str) -> str:
    """The parser's complaint without the text it quotes: its pure-Python
    scanner puts the offending character in two of its messages."""
    for quoting in ("Invalid control character", "Invalid \\escape"):
        if message.startswith(quoting):
            return quoting
    return message.removesuffix(" starting at").removesuffix(" at")


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = re.compile(rb"[\[{]+|[\]}]+")


def _check_depth(raw: bytes) -> None:
    """Refuses nesting deeper than ``MAX_DEPTH`` before the parser sees it:
    the parser recurses once per level, and in the sandbox a deep enough
    document overflows the stack (a trap, not an error) before Python's
    recursion limit stops it. Escapes, then everything but quotes and
    brackets, then strings are dropped (each a pass in C), and what is left
    is counted."""
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)
    skeleton = _STRING.sub(b"", raw.translate(None, _NOT_STRUCTURE))
    depth = 0
    for run in _BRACKETS.finditer(skeleton):
        text = run.group()
        depth += len(text) if text[:1] in (b"[", b"{") else -len(text)
        if depth > MAX_DEPTH:
            raise FormatError(f"objects and arrays nest more than {MAX_DEPTH} deep")


def parse(raw: bytes) -> dict:
    """The secrets of a file's content: name to ``str`` or ``bytes``.

    Raises :class:`FormatError` saying what is wrong and where.
    """
    try:
        document = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise FormatError(f"not UTF-8 text (line {line})") from None
    if document.startswith("\ufeff"):
        document = document[1:]
    _check_depth(raw)
    try:
        tree = json.loads(
            document,
            object_pairs_hook=_Object,
            parse_int=_Number,
            parse_float=_Number,
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as error:
        # `msg` is the parser's own words ("Expecting ',' delimiter"),
        # never the text it failed on.
        raise FormatError(
            f"not valid JSON: {_reason(error.msg)} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise FormatError(f"objects and arrays nest more than {MAX_DEPTH} deep") from None
    if not isinstance(tree, _Object):
        raise FormatError(f"the top level is {_kind(tree)}, not an object")
    secrets: dict = {}
    # Only a document with a surrogate escape can hold text that is not
    # Unicode: the others skip the check of every key and string.
    _collect(tree, "", secrets, _SURROGATE_ESCAPE.search(raw) is not None)
    return secrets


def _kind(value: object) -> str:
    if isinstance(value, _Number):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "an array"


def _collect(pairs: list, parent: str, secrets: dict, check_text: bool) -> None:
    """Adds the leaves under the object ``pairs`` (at the key path
    ``parent``) to ``secrets``."""
    prefix = parent + "/" if parent else ""
    seen: set = set()
    for key, value in pairs:
        name = prefix + key
        if check_text:
            _check_text(key, parent, "a key")
        if key in seen:
            raise FormatError(f"the key {_quote(name)} appears twice")
        seen.add(key)
        if "/" in key:
            raise FormatError(
                f"the key {_quote(key)} (under {_where(parent)}) contains '/': names join "
                "keys with '/', so its secrets could not be addressed"
            )
        if not key:
            raise FormatError(f"an empty key under {_where(parent)} cannot be part of a name")
        kind = type(value)
        if kind is str:
            if check_text:
                _check_text(value, name, "the value")
            secrets[name] = value
        elif kind is _Object:
            if len(value) == 1 and value[0][0] == "$base64":
                secrets[name] = _bytes(value[0][1], name)
            else:
                _collect(value, name, secrets, check_text)
        elif kind is _Number:
            secrets[name] = str(value)
        elif kind is list:
            if check_text:
                _check_array(value, name)
            secrets[name] = _compact(value)
        else:
            secrets[name] = _compact(value)


def _check_array(value: list, path: str) -> None:
    """Refuses a string (or key) in an array that is not Unicode text."""
    for item in value:
        if isinstance(item, _Object):
            for key, inner in item:
                _check_text(key, path, "a key in an array")
                _check_array([inner], path)
        elif isinstance(item, list):
            _check_array(item, path)
        elif type(item) is str:
            _check_text(item, path, "a string in an array")


def _bytes(encoded: object, path: str) -> bytes:
    if type(encoded) is not str:
        raise FormatError(
            f'{_where(path)}: "$base64" must be a string of standard base64 '
            '(an object whose only key is "$base64" is a bytes value)'
        )
    try:
        return base64.b64decode(encoded.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise FormatError(
            f'{_where(path)}: "$base64" is not standard base64 with padding'
        ) from None


class _File:
    """One read of the file: its identity and its secrets."""

    __slots__ = ("identity", "settled", "secrets", "raw")

    def __init__(self, identity: str, settled: bool, secrets: dict, raw: bytes | None) -> None:
        self.identity = identity
        #: Whether the file's last change was ``SETTLED_SECONDS`` before
        #: the read: only then does an unchanged identity mean unchanged
        #: content, so only then is the read trusted (and versioned).
        self.settled = settled
        self.secrets = secrets
        #: The content, kept while the read is not settled: the next read
        #: compares it instead of parsing again.
        self.raw = raw

    @property
    def version(self) -> str | None:
        """The version of a value of this read: the file's identity, when
        it was settled."""
        return self.identity if self.settled else None


def _identity(status: os.stat_result) -> tuple:
    """The file's identity, and when it last changed (ns)."""
    tag = f"{status.st_size}:{status.st_mtime_ns}:{status.st_ctime_ns}:{status.st_ino}"
    return tag, max(status.st_mtime_ns, status.st_ctime_ns)


class JsonFile(pp.Provider):
    """Serves the secrets of one JSON file."""

    def __init__(self, config: dict) -> None:
        for key in config:
            if key not in SETTINGS:
                raise pp.BackendError(
                    f"config: unknown setting {_quote(key)} (the json provider takes `file`)"
                )
        path = config.get("file")
        if path is None or path == "":
            raise pp.BackendError(
                "config: `file` is required: the absolute path of the JSON secrets file"
            )
        if not os.path.isabs(path):
            raise pp.BackendError(f"config: `file` must be an absolute path, not {_quote(path)}")
        self.path = path
        self.file = self._read()

    def _error(self, error: OSError) -> pp.BackendError:
        reason = error.strerror or type(error).__name__
        # The sandbox answers a path outside the granted directories as
        # missing (or not permitted).
        if isinstance(error, (FileNotFoundError, PermissionError)):
            reason += " (is its directory in the backend's allow.dirs?)"
        return pp.BackendError(f"cannot read {self.path}: {reason}")

    def _read(self, previous: _File | None = None) -> _File:
        """Reads the file and parses it, unless its content is the one
        ``previous`` (an unsettled read) parsed. The identity is taken from
        the open file, so it describes what was read."""
        try:
            with open(self.path, "rb") as handle:
                status = os.fstat(handle.fileno())
                if status.st_size > MAX_FILE_BYTES:
                    raise pp.BackendError(
                        f"{self.path} is {status.st_size} bytes; the json provider reads files "
                        f"of at most {MAX_FILE_BYTES} bytes"
                    )
                raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise self._error(error) from None
        if len(raw) > MAX_FILE_BYTES:
            raise pp.BackendError(
                f"{self.path} has grown past {MAX_FILE_BYTES} bytes; the json provider reads "
                f"files of at most {MAX_FILE_BYTES} bytes"
            )
        identity, changed_ns = _identity(status)
        settled = time.time_ns() - changed_ns >= SETTLED_SECONDS * 1_000_000_000
        if previous is not None and previous.raw == raw:
            secrets = previous.secrets
        else:
            secrets = self._parse(raw)
        return _File(identity, settled, secrets, None if settled else raw)

    def _parse(self, raw: bytes) -> dict:
        try:
            return parse(raw)
        except FormatError as error:
            raise pp.BackendError(f"{self.path}: {error}") from None
        except MemoryError:
            raise pp.BackendError(
                f"{self.path}: {len(raw)} bytes do not fit in the sandbox's memory once parsed "
                "(raise the backend's limits.memory_mb)"
            ) from None

    def _current(self) -> _File:
        """The file as it is now: the last read while the file's identity
        is the one it read, else a new read. A file changed in the last
        ``SETTLED_SECONDS`` is read on every call (a second change within
        the same clock tick could leave the same identity), and parsed
        again only when its content differs."""
        try:
            status = os.stat(self.path)
        except OSError as error:
            raise self._error(error) from None
        if _identity(status)[0] != self.file.identity:
            self.file = self._read()
        elif not self.file.settled:
            self.file = self._read(self.file)
        return self.file

    def get(self, name: str) -> pp.Value:
        file = self._current()
        if name not in file.secrets:
            raise pp.NotFound(name)
        return pp.Value(file.secrets[name], file.version)

    def list(self, pattern: pp.Pattern) -> list:
        return pattern.filter(self._current().secrets)

    def get_matching(self, pattern: pp.Pattern) -> dict:
        # One stat for the whole declaration, not one per name.
        file = self._current()
        version = file.version
        return {
            name: pp.Value(value, version)
            for name, value in file.secrets.items()
            if pattern.matches(name)
        }

    def changes(self, held: list, patterns: list) -> pp.ChangeSet:
        # One stat; the file is read again only when its identity changed.
        file = self._current()
        version = file.version
        held_names = {h.name for h in held}
        current = [(h.name, version) for h in held if h.name in file.secrets]
        current += [
            (name, version)
            for name in file.secrets
            if name not in held_names and any(p.matches(name) for p in patterns)
        ]
        return pp.ChangeSet.compare(held, current)


pp.export(JsonFile)
