"""The ``surrogate-eo`` command line (typer).

Each layer owns one module here exposing ``register(app)``; heavy imports
happen inside the commands so ``surrogate-eo --help`` stays fast. Errors of
type :class:`~surrogate_eo.errors.SurrogateEOError` are printed on one line
and exit with status 2.
"""
from __future__ import annotations

import importlib
import sys

import typer

from ..errors import SurrogateEOError, one_line

EXIT_USAGE = 2
#: Longest error line printed (user input echoed inside is capped separately, see errors.shown).
MESSAGE_LIMIT = 600

app = typer.Typer(
    name="surrogate-eo",
    help=(
        "A NAS surrogate benchmark for Earth-observation image classification (So2Sat LCZ42), "
        "with fitness-landscape analysis that tells whether a surrogate is faithful.\n\n"
        "Start with `surrogate-eo demo` (the whole pipeline on synthetic So2Sat-format data), "
        "or `surrogate-eo space describe eo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

def _flags_show_no_type() -> None:
    """Show on/off flags as ``--json``, not ``--json <bool>`` (which suggests ``--json true``, an error)."""
    try:
        from typer.core import TyperOption
    except ImportError:  # pragma: no cover - other typer layouts render flags without a type
        return
    original = TyperOption.display_type_rich
    if getattr(original, "_surrogate_eo_flag_patch", False):
        return

    def display_type_rich(self: TyperOption, ctx: object) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "is_bool_flag", False):
            return None
        return original(self, ctx)

    display_type_rich._surrogate_eo_flag_patch = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()

#: CLI modules, one per layer; each defines ``register(app: typer.Typer) -> None``.
_MODULES: tuple[str, ...] = (
    "space",
    "data",
    "surrogates",
    "train",
    "campaign",
    "landscape",
    "search",
    "report",
    "demo",
)

for _name in _MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``surrogate-eo`` console script."""
    try:
        app(args=argv, prog_name="surrogate-eo", standalone_mode=True)
    except SurrogateEOError as exc:
        typer.echo(f"error: {one_line(str(exc), MESSAGE_LIMIT)}", err=True)
        sys.exit(EXIT_USAGE)
    except RecursionError:  # a parser without its own guard met input nested thousands deep
        typer.echo("error: an input file is nested too deeply to be read (thousands of levels of brackets or "
                   "tables); it is not a file surrogate-eo wrote — check the paths given", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()
