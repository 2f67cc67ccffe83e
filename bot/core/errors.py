"""The one error path: UserError is shown to the user; anything else is logged with a reference."""

from __future__ import annotations

import logging
import secrets
from typing import Any

log = logging.getLogger("fanloop")


class UserError(Exception):
    """A failure the user caused or can fix. Carries an i18n key and its parameters."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Term(str):
    """A parameter of an error message that has its own catalog message (a command parameter's
    name): shown in the reader's language where the catalogs have `key`, else as it is."""

    key: str

    def __new__(cls, text: str, key: str) -> Term:
        term = super().__new__(cls, text)
        term.key = key
        return term


class PermissionDenied(UserError):
    pass


class RateLimited(UserError):
    pass


def new_error_reference() -> str:
    """A short reference the user can quote and an operator can grep the log for."""
    return secrets.token_hex(4)


def log_unexpected(exc: BaseException, where: str) -> str:
    ref = new_error_reference()
    log.error("unexpected error [%s] in %s", ref, where, exc_info=exc)
    return ref
