"""Errors a user can act on. The command line prints them without a traceback."""


class UserError(Exception):
    """A problem with the user's input (data, options, files): the message says what to fix."""
