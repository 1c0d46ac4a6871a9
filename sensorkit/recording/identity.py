"""Whose recording it is, without naming anyone: the rules for the pseudonym and the
session label written into every file header (the CLI and the monitor window share them)."""

from __future__ import annotations

import re

from sensorkit.errors import SensorkitError

PSEUDONYM = re.compile(r"^(?=.*\d)[A-Za-z0-9_-]{1,32}$")
# a session label is a date, a word of the clinic's vocabulary, or a short code with a digit
# (week6, v2): never free text, which could carry a name
SESSION_LABEL = re.compile(
    r"^(\d{4}-\d{2}-\d{2}|(?=.*\d)[A-Za-z0-9_.-]{1,32}|unspecified|before|after|pre|post|baseline|"
    r"follow-?up|retest|initial|interim|final|discharge|demo|test|trial)$", re.IGNORECASE)


def check_identity(patient: str, session: str, what: tuple[str, str] = ("--patient", "--session")) -> None:
    """Raise a clear `SensorkitError` unless the pseudonym and the session label follow the rules."""
    if patient != "unspecified" and not PSEUDONYM.match(patient):
        raise SensorkitError(f"{what[0]} {patient!r}: use a pseudonymous code with a digit, such as P017, "
                             "never a name")  # fmt: skip
    if not SESSION_LABEL.match(session):
        raise SensorkitError(f"{what[1]} {session!r}: use a date (2026-11-29), before, after, baseline, "
                             "follow-up, or a short code with a digit (week6), never free text")  # fmt: skip
