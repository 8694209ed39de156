"""``vigil audit verify`` and ``vigil keys generate``: the sharing commands of the CLI."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import DataError
from .audit import VerifyResult, verify
from .keys import Signer, check_node_id, load_public_key, write_key_files

audit_app = typer.Typer(
    help="Audit logs of releases, denials, receipts and rejections.", no_args_is_help=True
)
keys_app = typer.Typer(help="Node signing keys (Ed25519).", no_args_is_help=True)
sharing_app = typer.Typer(help="Studies of sharing agreements.", no_args_is_help=True)


class AuditVerifyFailed(DataError):
    """A tampered or broken audit log: exit 1 (2 stays for unusable input such as a missing key file)."""

    exit_code = 1


def format_verify(log: Path, result: VerifyResult) -> str:
    """One line: ``ok: …`` or ``audit log LOG: entry N: reason``."""
    if result.ok and result.count == 0:
        return f"empty: {log}: no entries (nothing to verify; give --head to require entries)"
    if result.ok:
        return f"ok: {log}: {result.count} entries, head {result.head}"
    return f"audit log {log}: entry {result.first_bad_seq}: {result.reason}"


@audit_app.command("verify")
def audit_verify(
    log: Path = typer.Argument(..., help="Audit log, JSON lines."),
    key: Path = typer.Option(..., "--key", help="The node's public key (PEM)."),
    head: str | None = typer.Option(
        None, "--head", help="Expected head hash, kept elsewhere: detects truncation."
    ),
) -> None:
    """Check the hash chain and signatures; exit 1 naming the first bad entry."""
    result = verify(log, load_public_key(key), head)
    if not result.ok:  # raised, not typer.Exit: cli.main turns VigilError into one line and its exit code
        raise AuditVerifyFailed(format_verify(log, result))
    typer.echo(format_verify(log, result))


@keys_app.command("generate")
def keys_generate(
    node: str = typer.Option(..., "--node", help="Node id (lower-case letters, digits, '-', '_')."),
    out: Path = typer.Option(..., "--out", help="Directory for <node>.key and <node>.pub."),
) -> None:
    """Write a new Ed25519 key pair for NODE; prints its key id."""
    from ..outputs import ensure_writable_folder

    signer = Signer.generate(check_node_id(node, "--node"))
    key_path, pub_path = write_key_files(signer, ensure_writable_folder(out, "--out"))
    typer.echo(f"{signer.key_id}: private {key_path}, public {pub_path}")


@sharing_app.command("sweep")
def sharing_sweep(
    scenario: Path = typer.Argument(..., help="Scenario YAML with two or more partners."),
    out: Path = typer.Option(..., "--out", help="Folder for sweep.csv, sweep.json and sweep.png."),
    delay_s: str = typer.Option("0,10,30,60", "--delay-s", help="Comma-separated agreement delays (s)."),
    precision_m: str = typer.Option("100,1000,5000", "--precision-m", help="Comma-separated precisions (m)."),
    agreement: list[Path] = typer.Option([], "--agreement", help="Agreement YAML (default: the scenario's)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out folder."),
) -> None:
    """Each partner's latency and errors, alone and shared, over a grid of agreement delay and precision."""
    from rich.console import Console

    from ..outputs import check_output, output_folder
    from ..progress import progress_bar
    from ..sim import load_scenario
    from . import sweep as sw
    from .agreement import MIN_PRECISION_M, load_agreement

    delays, precisions = (
        sw.parse_values(delay_s, "--delay-s", 0.0),
        sw.parse_values(precision_m, "--precision-m", MIN_PRECISION_M),
    )
    spec = load_scenario(scenario)
    accords = [load_agreement(a) for a in agreement] or [load_agreement(Path(a)) for a in spec.agreements]
    inputs = [scenario, *agreement, *(Path(a) for a in spec.agreements)]  # the scenario's own agreements too
    check_output(out, "--out", inputs, force, folder=True)
    with progress_bar(f"sweeping {len(delays) * len(precisions)} agreements") as advance:
        rows = sw.sweep(spec, delays, precisions, accords, progress=advance)
    with output_folder(out) as tmp:
        sw.write_csv(rows, tmp / "sweep.csv")
        sw.write_json(
            rows,
            {
                "scenario": str(scenario),
                "delays_s": delays,
                "precisions_m": precisions,
                "agreements": [a.name for a in accords],
            },
            tmp / "sweep.json",
        )
        sw.write_plot(rows, tmp / "sweep.png")
    Console().print(sw.format_sweep(rows, len(spec.launches)))
    typer.echo(f"wrote {out / 'sweep.csv'}, {out / 'sweep.json'} and {out / 'sweep.png'}")


def register(app: typer.Typer) -> None:
    app.add_typer(sharing_app, name="sharing")
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
