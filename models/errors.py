"""User-facing errors of the restoration engine: shown as one line, exit code 2 (see common.errors)."""

from common.errors import UserError


class ModelError(UserError):
    pass


def run_module_cli(main, prog: str) -> None:
    """Entry for `python -m models.X`: the same one-line errors and exit codes as `explainer`."""
    from common.errors import exit_code

    raise SystemExit(exit_code(main, prog))
