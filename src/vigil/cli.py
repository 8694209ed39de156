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
    "vigil.flight.commands",
    "vigil.sim.commands",
    "vigil.fusion.commands",
    "vigil.app.run",
    "vigil.app.node",
    "vigil.sharing.commands",
    "vigil.campaign.commands",
    "vigil.api.commands",
    "vigil.report.commands",
    "vigil.app.demo",
    "vigil.warmup",
)


def _register_all() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(app)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _usage_line(err) -> str:
    """One line for a command-line usage error, naming the option when the parser knows it."""
    message = " ".join(err.format_message().split())
    param = getattr(err, "param", None)
    opts = getattr(param, "opts", None)
    if opts and opts[0] not in message:
        message = f"{opts[0]}: {message}"
    return message


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning any :class:`VigilError` into one line and its exit code."""
    warnings.showwarning = _warning_line
    _register_all()
    try:
        rc = app(args=argv, standalone_mode=False)  # a typer.Exit(code) comes back as the return value
    except VigilError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except typer.Exit as ex:
        return ex.exit_code
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 130
    except Exception as err:
        if not hasattr(err, "format_message"):  # not a usage error from Typer's command-line parser
            raise
        print(f"error: {_usage_line(err)}", file=sys.stderr)
        return int(getattr(err, "exit_code", 2))
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
