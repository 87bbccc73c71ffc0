"""User-facing errors of the agent: shown as one line, exit code 2."""


class AgentError(Exception):
    pass
