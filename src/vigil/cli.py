"""``vigil …``: the command line. A thin shell: parse flags, call the library, format the result.

Each role package registers its commands from its own ``commands.py`` (``register(app)``), so this
module stays small. Every :class:`~vigil.errors.VigilError` becomes one line on stderr and a non-zero
exit code; no traceback reaches a user for bad input.
"""

from __future__ import annotations

import sys
import warnings

import typer

from .errors import VigilError

app = typer.Typer(
    name="vigil",
    help="Vigil: space-based missile early warning and data sharing between partners (warning only).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = (
    "vigil.coverage.commands",
    "vigil.demo",
)


def _register_all() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning any :class:`VigilError` into one line and its exit code."""
    warnings.showwarning = _warning_line
    _register_all()
    try:
        app(args=argv, standalone_mode=False)
    except VigilError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except typer.Exit as ex:
        return ex.exit_code
    except (typer.BadParameter, typer.Abort) as err:  # pragma: no cover - click formats these itself
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # click usage errors
        import click

        if isinstance(err, click.ClickException):
            print(f"error: {err.format_message()}", file=sys.stderr)
            return err.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
