"""User-facing errors of the restoration engine: shown as one line, exit code 2."""


class ModelError(Exception):
    pass


def run_module_cli(main, prog: str) -> None:
    """Entry for `python -m models.X`: our errors become one line on stderr and exit code 2."""
    import sys

    try:
        raise SystemExit(main())
    except ModelError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        raise SystemExit(2)
