"""User-facing errors of the knowledge layer: shown as one line, exit code 2 (see common.errors)."""

from common.errors import UserError


class KnowledgeError(UserError):
    pass
