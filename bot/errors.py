"""Errors the command line reports in one line, in a module of their own: catching them must
not import what raises them (storage brings aiosqlite, evaluation yaml) on every start."""


class StorageError(Exception):
    """The database cannot be opened or read (newer schema, not a database, unreadable)."""


class LabelledDataError(Exception):
    """A labelled file cannot be read: missing, not YAML, or not in the expected shape."""
