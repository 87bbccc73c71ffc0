"""User-facing errors of the knowledge layer: shown as one line, exit code 2."""


class KnowledgeError(Exception):
    pass
