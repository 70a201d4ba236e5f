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

from ..errors import SurrogateEOError

EXIT_USAGE = 2

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
        msg = " ".join(str(exc).split())
        typer.echo(f"error: {msg}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()
