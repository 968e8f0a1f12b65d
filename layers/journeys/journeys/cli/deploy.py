"""`journeys build` and `journeys graph`: the deployment-side commands (registered in cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from journeys.language.errors import JourneyFileError


def _fail(message: str) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + message, err=True)
    sys.exit(1)


@click.command()
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False, exists=True),
              help="Project root (holds template.yaml and statemachines/).")
@click.option("--check", is_flag=True, help="Fail if a derived file is stale instead of writing it (CI).")
@click.option("--optimize", type=click.Choice(["steps", "cost"]), default=None,
              help="The stack's default for journeys whose file has no `optimize:` (cost: one Task per run of steps between waits).")
def build(root: str, check: bool, optimize: str | None) -> None:
    """Regenerate the compiled ASL, the catalog and template.yaml's journey resources."""
    from journeys.compiler.build import BuildError, plan, stale
    from journeys.compiler.build import build as run_build

    base = Path(root)
    try:
        if check:
            outdated = stale(base, optimize)
            if outdated:
                _fail("stale (run `journeys build`): " + ", ".join(str(p.relative_to(base)) for p in outdated))
            click.echo(f"up to date: {len(plan(base, optimize)[0])} files")
            return
        written, warnings = run_build(base, optimize)
    except JourneyFileError as error:
        _fail(str(error))
    except BuildError as error:
        _fail(str(error))
    for warning in warnings:
        click.echo(click.style("warning: ", fg="yellow") + warning, err=True)
    for path in written:
        click.echo(f"wrote {path.relative_to(base)}")
    if not written:
        click.echo("up to date")
    _print_senders(base)


def _print_senders(base: Path) -> None:
    """The SES identities to verify before the first send (docs/DEPLOY.md, Senders)."""
    from journeys.compiler.build import sender_identities

    identities = sender_identities(base)
    if not identities:
        click.echo("SES identity to verify: SenderIdentity (FromAddress's domain); no journey names its own sender")
        return
    click.echo("SES identities to verify: SenderIdentity (FromAddress's domain) and the journeys' senders:")
    for identity, addresses in identities.items():
        click.echo(f"  {identity}  ({', '.join(addresses)})")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--markdown", is_flag=True, help="Wrap in a ```mermaid fence (for README/docs).")
@click.option("--allow-incomplete", is_flag=True, help="Draw steps with missing settings (they compile to skips).")
def graph(file: str, out: str | None, markdown: bool, allow_incomplete: bool) -> None:
    """Draw a journey as a Mermaid flowchart (step names; branch, else, event, timeout edges)."""
    from journeys.compiler.mermaid import mermaid
    from journeys.language.loader import load_journey

    try:
        journey, _ = load_journey(file, allow_incomplete=allow_incomplete)
    except JourneyFileError as error:
        _fail(str(error))
    text = mermaid(journey)
    if markdown:
        text = f"```mermaid\n{text}```\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"{file} -> {out}", err=True)
    else:
        click.echo(text, nl=False)
