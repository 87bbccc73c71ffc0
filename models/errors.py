"""User-facing errors of the restoration engine: shown as one line, exit code 2."""


class ModelError(Exception):
    pass
