"""``surrogate-eo space …``: inspect search spaces."""
from __future__ import annotations

import json

import typer

space_app = typer.Typer(help="Inspect the search spaces (nb201, eo): sizes, samples, neighbours, canonical keys.",
                        no_args_is_help=True)


def _emit(obj: object, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(obj, indent=1) if as_json else text)


@space_app.command("describe")
def describe(name: str = typer.Argument(..., help="Space name: nb201 or eo."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Show a space's positions, their choices, its size and neighbourhood degree."""
    from ..spaces import get_space

    space = get_space(name)
    d = space.describe()
    lines = [f"space {d['name']}: {d['size']:,} architectures, {d['n_dims']} positions, "
             f"{d['degree']} neighbours per arch"]
    lines += [f"  {i:2d} {dim['name']:<14} {', '.join(dim['choices'])}" for i, dim in enumerate(d["dims"])]
    lines.append(f"example: {space.to_string(space.sample(1, seed=0)[0])}")
    _emit(d, as_json, "\n".join(lines))


@space_app.command("sample")
def sample(name: str = typer.Argument(..., help="Space name: nb201 or eo."),
           n: int = typer.Option(5, "-n", "--n", min=0, max=1_000_000, help="How many architectures."),
           seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same sample)."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON (strings and vectors).")) -> None:
    """Draw N architectures uniformly at random and print their strings."""
    from ..spaces import get_space

    space = get_space(name)
    batch = space.sample(n, seed=seed)
    strings = space.to_strings(batch)
    _emit([{"arch": s, "vector": v.tolist()} for s, v in zip(strings, batch)], as_json, "\n".join(strings))


@space_app.command("neighbours")
def neighbours(name: str = typer.Argument(..., help="Space name: nb201 or eo."),
               arch: str = typer.Argument(..., help="Architecture string (quote it: it contains '|')."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every architecture one choice away from ARCH."""
    from ..spaces import get_space

    space = get_space(name)
    strings = space.to_strings(space.neighbours(arch))
    _emit({"arch": arch, "neighbours": strings}, as_json, "\n".join(strings))


@space_app.command("canonical")
def canonical(name: str = typer.Argument(..., help="Space name: nb201 or eo."),
              arch: str = typer.Argument(..., help="Architecture string (quote it: it contains '|')."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print ARCH's canonical key: archs computing the same function share it."""
    from ..spaces import get_space

    key = get_space(name).canonical(arch)
    _emit({"arch": arch, "canonical": key}, as_json, key)


def register(app: typer.Typer) -> None:
    app.add_typer(space_app, name="space")
