"""User-facing errors of the agent: shown as one line, exit code 2 (see common.errors)."""

from common.errors import UserError


class AgentError(UserError):
    pass
