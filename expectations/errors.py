"""Errors a user can meet. Each says what went wrong, where (file, row, column, key) and how to fix it."""


class IsmError(Exception):
    """Base of every user-facing error: the CLI prints its message on one line, no traceback."""


class ConfigError(IsmError):
    """The map config is wrong: names the file, the key, what was found and what is allowed."""


class SourceError(IsmError):
    """A partner extract cannot be read or does not have the promised shape."""


class PublishError(IsmError):
    """A version cannot be published (the previous version stays `latest`)."""


class QualityGateError(IsmError):
    """An error-severity check failed under a `fail` policy, so nothing was published."""


class UnknownReferenceError(IsmError):
    """A service, lane or version named on the command line or in a change-set is not in the map, or a name matches
    several services: says what was asked for and lists close matches or what there is."""
