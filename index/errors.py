"""Errors written for the person who hit them: what happened, and what to do next.

The CLI and the chat adapters turn a ``ParleyError`` into one line for the user; anything
else is a bug and is logged with its trace.
"""


class ParleyError(Exception):
    """A problem the user can act on; ``str(error)`` is the whole message."""


class NoIndexError(ParleyError):
    """No index has been built at the configured location yet."""


class IndexUnreadableError(ParleyError):
    """The index exists but is corrupt, truncated or built for another model or format."""


class CorpusError(ParleyError):
    """The corpus directory is missing or holds no usable document."""


class BuildLockedError(ParleyError):
    """Another build holds the index's build lock."""


class VersionMismatchError(ParleyError):
    """A replica's build of a published version did not reach that version's digest."""


class UnknownVersionError(NoIndexError):
    """The index on this host is not a version the shared database knows: not served."""
