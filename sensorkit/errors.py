"""Errors a user can cause; the CLI prints their message as one line and exits non-zero."""


class SensorkitError(Exception):
    """A problem with the user's input, file or device, described for a person."""
