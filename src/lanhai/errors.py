"""Errors raised by services; the CLI and API turn them into exit codes and one envelope."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

#: what a write fails with when the device, a quota or the file-size limit is full
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what it was, why, and how to fix it."""

    reason: str
    fix: str = ""
    field: str | None = None
    value: str | None = None
    row: int | None = None
    column: str | None = None
    record: str | None = None
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != ""}

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        elif self.field:
            where.append(f"field {self.field!r}")
        if self.record:
            where.append(self.record)
        head = ", ".join(where)
        value = f" value {self.value!r}:" if self.value is not None else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{head}:{value} {self.reason}.{fix}".lstrip(": ")


class LanhaiError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"
    http_status = 400
    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [p.to_dict() for p in self.problems]
        return body

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the error (none by default)."""
        return {"WWW-Authenticate": "Bearer"} if self.http_status == 401 else {}


class ValidationFailed(LanhaiError):
    """The data given is not valid; ``problems`` lists every reason."""

    code = "invalid"
    http_status = 422


class NotFound(LanhaiError):
    """No such record (or the caller may not know it exists)."""

    code = "not_found"
    http_status = 404


class Gone(LanhaiError):
    """The record was withdrawn: its accession stays, with when and why, never its data."""

    code = "gone"
    http_status = 410


class Conflict(LanhaiError):
    """The request clashes with what is stored (a duplicate identifier, say)."""

    code = "conflict"
    http_status = 409


class Unauthorized(LanhaiError):
    """No valid token was given for an action that needs one."""

    code = "unauthorized"
    http_status = 401


class Forbidden(LanhaiError):
    """The caller's role does not allow the action."""

    code = "forbidden"
    http_status = 403


class UsageError(LanhaiError):
    """The command or request itself is malformed (unknown kind, bad option)."""

    code = "usage"
    http_status = 400
    exit_code = 2


class ConcurrentChange(Conflict):
    """Another write changed the same thing while this one ran; nothing was written."""


class StaleVersion(ConcurrentChange):
    """The record changed since the version the caller read; nothing was written.

    ``current`` is the version stored now, sent back so the caller can read it again (and as
    the ETag of the answer); ``problems`` name the fields changed on both sides, with the
    value the caller sent and the value stored now.
    """

    code = "stale_version"

    def __init__(self, message: str, current: int, problems: list[Problem] | None = None
                 ) -> None:
        super().__init__(message, problems)
        self.current = current

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "current_version": self.current}

    def headers(self) -> dict[str, str]:
        return {"ETag": f'"{self.current}"'}


class Busy(LanhaiError):
    """The bank is busy with another write; the caller may try again in a moment."""

    code = "busy"
    http_status = 503

    def __init__(self, message: str, retry_after: int = 1,
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message, problems)
        #: seconds a client should wait before trying again (the Retry-After header)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class NoSpace(LanhaiError):
    """A write ran out of room (a full device, a quota, the file-size limit); nothing was
    written. ``where`` is what was being written."""

    code = "no_space"
    http_status = 507

    def __init__(self, where: str, outcome: str = "nothing was written") -> None:
        super().__init__(f"no space left on the device writing {where}; free space and run "
                         f"again; {outcome}")
        self.where = where


@contextmanager
def writing(where: str, outcome: str) -> Iterator[None]:
    """Turn a write that runs out of room (:data:`NO_SPACE_ERRNOS`, or :class:`NoSpace` from
    the store) into one :class:`NoSpace` naming what was written and what became of it
    (``outcome``: "nothing was imported")."""
    try:
        yield
    except NoSpace as err:
        raise NoSpace(err.where, outcome) from None
    except OSError as err:
        if err.errno not in NO_SPACE_ERRNOS:
            raise
        raise NoSpace(str(err.filename) if err.filename else where, outcome) from None
