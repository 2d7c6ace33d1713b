"""Exceptions that the CLI turns into clear messages and exit codes."""


class UsageError(Exception):
    """Bad command line, missing input or invalid recipe: exit code 1, before any work starts."""


class ShardError(Exception):
    """A whole shard could not be processed (unreadable or not an archive).

    The shard is reported by name as failed; nothing is written for it, so the
    next run retries it.
    """
