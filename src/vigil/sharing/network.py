"""All partners' nodes of a scenario in one process: a real bus, a simulated clock.

:func:`run_network` simulates the scenario (or takes a simulation), gives each partner a
:class:`~vigil.sharing.node.Node` with its own store, audit log and fresh Ed25519 key, and steps every node
through the scenario in lockstep ticks of the fusion chunk (:attr:`vigil.fusion.FusionConfig.chunk_s`). At
tick ``t`` (seconds from the epoch), for every node in turn:

1. its own detections with ``time_s`` in ``[t - chunk, t)`` are offered to its partners (releaser:
   filter, coarsen, sign, queue with ``release_at = created_at + delay_s``);
2. envelopes due at ``t`` are published on the bus; 3. each node receives everything published to it so
   far (verify → store commit → ack); 4. each node fuses (own alone; own + received) and offers its new
   warnings; 5. and 6. those warnings are published and received within the same tick.

**The bus and the stores are real; the clock is simulated.** Every timestamp (``created_at``,
``release_at``, the receiver's freshness window, agreement validity, a warning's ``issued_at``) is the
scenario's instant, so an agreement's ``delay_s`` delays data by that much *simulated* time and a run of a
half-hour scenario takes seconds. Message transport takes zero simulated time.

:func:`sharing_summary` turns the result into the ``sharing`` block of ``score.json``.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..fusion import FusionConfig
from ..records import ObservationBatch
from ..sim import SimulationResult, simulate
from ..sim.scenario import Scenario
from ..timescale import parse_utc
from .agreement import Agreement, load_agreement
from .audit import AuditLog, JsonlAuditSink
from .bus import SUBJECT_ROOT, Bus
from .bus_memory import MemoryBus
from .keys import KeyRegistry, Signer
from .node import Node
from .results import NetworkResult, PartnerResult
from .store import Store

Progress = Callable[[int, int], None]
MEMORY_DB = "sqlite://:memory:"  # a store per node in memory: nothing on disk, no fsync per commit


def _agreements(scenario: Scenario, agreements: Sequence[Agreement | str | Path] | None) -> list[Agreement]:
    items = scenario.agreements if agreements is None else agreements
    return [a if isinstance(a, Agreement) else load_agreement(Path(a)) for a in items]


def check_urls(bus: str, db: str) -> None:
    """ConfigError (one line) for a bus or database URL this module cannot open, before any work is done."""
    if bus != "memory://" and not bus.startswith(("nats://", "tls://")):
        raise ConfigError(f"--bus {bus!r}: expected memory:// or nats://host:port")
    if not (
        db in ("sqlite://", MEMORY_DB)
        or db.startswith(("sqlite:///", "postgresql://", "postgres://"))
        or "dbname=" in db
    ):
        raise ConfigError(f"--db {db!r}: expected sqlite://, sqlite:///DIR or postgresql://…")
    if not db.startswith("sqlite://"):
        from .node_config import postgres_url_problem

        if (problem := postgres_url_problem(db)) is not None:
            raise ConfigError(f"--db: {problem}")
    if db.startswith("sqlite:///"):
        from ..outputs import ensure_writable_folder

        ensure_writable_folder(Path(db.removeprefix("sqlite://")), f"--db {db!r}")


async def _open_bus(bus: str, run_id: str) -> tuple[Bus, str]:
    """(bus, subject root). NATS runs get a stream ``VIGIL_RUN_<id>`` and subject root of their own."""
    if bus == "memory://":
        return MemoryBus(), SUBJECT_ROOT
    if bus.startswith(("nats://", "tls://")):
        from .bus_nats import NatsBus

        root = f"vigil.run{run_id}.share"
        return await NatsBus.connect(bus, stream=f"VIGIL_RUN_{run_id}", subject_root=root), root
    raise ConfigError(f"bus {bus!r}: expected memory:// or nats://host:port")


def _open_store(db: str, node_id: str, run_id: str, workdir: Path) -> tuple[Store, str, Callable[[], None]]:
    """(store, description, cleanup): ``sqlite://`` → a file per node in ``workdir``; ``sqlite:///DIR`` →
    ``DIR/<node>.db`` (kept); ``sqlite://:memory:`` → in memory; ``postgresql://…`` → schema ``vigil_run_<id>_<node>`` (dropped unless kept)."""
    from .store_sqlite import SqliteStore

    if db == MEMORY_DB:
        store = SqliteStore(":memory:")
        return store, MEMORY_DB, store.close
    if db == "sqlite://":
        path = workdir / f"{node_id}.db"
        store = SqliteStore(path)
        return store, f"sqlite:///{path}", store.close
    if db.startswith("sqlite:///"):
        directory = Path(db.removeprefix("sqlite://"))
        directory.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(directory / f"{node_id}.db")
        return store, f"sqlite:///{directory / f'{node_id}.db'}", store.close
    if db.startswith(("postgresql://", "postgres://")) or "dbname=" in db:
        from .store_postgres import PostgresStore

        schema = f"vigil_run_{run_id}_{node_id.replace('-', '_')}"
        pg = PostgresStore(db, schema=schema)
        return pg, f"postgresql schema {schema}", pg.close
    raise ConfigError(f"db {db!r}: expected sqlite://, sqlite:///DIR or postgresql://…")


def _chunks(obs: ObservationBatch, partner: str, chunk_s: float) -> dict[int, ObservationBatch]:
    """The partner's own detections, time-ordered, split by tick index ``floor(time_s / chunk_s)``."""
    mine = obs.take(obs.partner_id.astype(str) == partner).sorted_by_time()
    keys = np.floor(mine.time_s / chunk_s).astype(np.int64)
    return {int(k): mine.take(keys == k) for k in np.unique(keys)}


async def _tick(
    nodes: list[Node],
    expected: dict[str, int],
    own: dict[str, dict[int, ObservationBatch]],
    k: int,
    now_s: float,
) -> None:
    for node in nodes:
        node.advance(now_s)
        chunk = own[node.node_id].get(k)
        if chunk is not None:
            node.observe(chunk)
    await _exchange(nodes, expected)
    for node in nodes:
        node.step()
    await _exchange(nodes, expected)


async def _exchange(nodes: list[Node], expected: dict[str, int]) -> None:
    for node in nodes:
        for recipient, n in (await node.publish_due()).items():
            expected[recipient] = expected.get(recipient, 0) + n
    for node in nodes:
        if node.counts.ingest.fetched < expected.get(node.node_id, 0):
            await node.receive(expected[node.node_id])


def _simulation_identity(simulation: SimulationResult) -> bytes:
    """A digest of what was observed (times, sensors, lines of sight): the same for the same simulation."""
    obs = simulation.observations
    digest = hashlib.sha256(simulation.epoch.encode())
    digest.update(np.ascontiguousarray(obs.time_s).tobytes())
    digest.update(np.ascontiguousarray(obs.los_ecef).tobytes())
    digest.update("|".join(map(str, obs.sensor_id)).encode())
    return digest.digest()


async def run_network_async(
    scenario: Scenario,
    rng_or_seed: np.random.Generator | int | None = None,
    *,
    agreements: Sequence[Agreement | str | Path] | None = None,
    bus: str = "memory://",
    db: str = "sqlite://",
    simulation: SimulationResult | None = None,
    fusion: FusionConfig | None = None,
    workdir: Path | None = None,
    keep: bool = False,
    progress: Progress | None = None,
    alone: bool = True,
    audit: bool = True,
) -> NetworkResult:
    """See :func:`run_network`."""
    if simulation is None:
        simulation = simulate(scenario, _rng(scenario, rng_or_seed))
    fusion = fusion or FusionConfig()
    run_id = uuid.uuid4().hex[:10]
    temp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="vigil-run-")) if workdir is None else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    ids = [p.id for p in scenario.partners]
    signers, keys = _keys(simulation, ids)
    accords = _agreements(scenario, agreements)
    the_bus, root = await _open_bus(bus, run_id)
    stores: dict[str, tuple[Store, str, Callable[[], None]]] = {}
    try:
        nodes = []
        for n in ids:
            stores[n] = _open_store(db, n, run_id, work)
            nodes.append(
                Node(
                    n,
                    signers[n],
                    keys,
                    accords,
                    the_bus,
                    stores[n][0],
                    simulation.epoch,
                    _audit_log(work, signers[n]) if audit else None,
                    subject_root=root,
                    fusion=fusion,
                    fuse_alone=alone,
                )
            )
        for node in nodes:
            await node.start()
        await _drive(nodes, simulation, scenario.duration_s, fusion.chunk_s, progress)
        kept_logs = None if (temp and not keep) or not audit else work
        result = _collect(
            nodes, signers, simulation, bus, db, {n: s[1] for n, s in stores.items()}, kept_logs
        )
        for node in nodes:
            await node.close()
        return result
    finally:
        await _cleanup(stores, the_bus, keep, work if temp else None)


def _rng(scenario: Scenario, rng_or_seed: np.random.Generator | int | None) -> np.random.Generator:
    """The simulation's generator: the one given, or one seeded by the seed given (default the scenario's)."""
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    return np.random.default_rng(scenario.seed if rng_or_seed is None else rng_or_seed)


def _keys(simulation: SimulationResult, ids: list[str]) -> tuple[dict[str, Signer], KeyRegistry]:
    """Each partner's signer and the registry of all their public keys. The simulated partners' keys derive
    from the simulation: a rerun releases the same coarsening offsets."""
    identity = _simulation_identity(simulation)
    signers = {n: Signer.derived(n, identity) for n in ids}
    return signers, KeyRegistry.from_signers(*signers.values())


def _audit_log(work: Path, signer: Signer) -> AuditLog:
    """The node's audit log, ``<work>/<node>-audit.jsonl``, not fsynced (a run, not a deployment)."""
    return AuditLog(JsonlAuditSink(work / f"{signer.node_id}-audit.jsonl", fsync=False), signer)


def _collect(
    nodes: list[Node],
    signers: dict[str, Signer],
    simulation: SimulationResult,
    bus: str,
    db: str,
    stores: dict[str, str],
    audit_dir: Path | None,
) -> NetworkResult:
    """What the run returns: each node's result (its audit log's path in ``audit_dir``; None: not kept),
    the simulation, the bus and store URIs, and where each node's store is."""
    return NetworkResult(
        simulation.epoch,
        {node.node_id: _partner_result(node, signers[node.node_id], audit_dir) for node in nodes},
        simulation,
        bus,
        db,
        stores,
    )


def _partner_result(node: Node, signer: Signer, audit_dir: Path | None) -> PartnerResult:
    """What one node of the run returns; ``audit_dir``: where its audit log stays (None: not kept)."""
    return PartnerResult(
        node.node_id,
        node.alone_warnings,
        node.fused_warnings,
        node.received_warnings,
        node.counts,
        signer.public_key,
        None if audit_dir is None else audit_dir / f"{node.node_id}-audit.jsonl",
        node.audit.head if node.audit else "",
        node.shared_warnings,
        node.received_tracks,
    )


async def _drive(
    nodes: list[Node],
    simulation: SimulationResult,
    duration_s: float,
    chunk_s: float,
    progress: Progress | None,
) -> None:
    own = {node.node_id: _chunks(simulation.observations, node.node_id, chunk_s) for node in nodes}
    epoch_s = parse_utc(simulation.epoch, "epoch").timestamp()
    expected: dict[str, int] = {}
    ticks = int(np.ceil(duration_s / chunk_s)) + 1
    for k in range(ticks):
        await _tick(nodes, expected, own, k, epoch_s + (k + 1) * chunk_s)
        if progress is not None:
            progress(k + 1, ticks)
    for node in nodes:
        node.finish()
    await _exchange(nodes, expected)


async def _cleanup(
    stores: dict[str, tuple[Store, str, Callable[[], None]]], bus: Bus, keep: bool, temp: Path | None
) -> None:
    for store, _, close in stores.values():
        if not keep and hasattr(store, "drop_schema"):
            store.drop_schema()
        close()
    if not keep and hasattr(bus, "delete_stream"):
        await bus.delete_stream()
    await bus.close()
    if temp is not None and not keep:
        shutil.rmtree(temp, ignore_errors=True)


def run_network(
    scenario: Scenario,
    rng_or_seed: np.random.Generator | int | None = None,
    *,
    agreements: Sequence[Agreement | str | Path] | None = None,
    bus: str = "memory://",
    db: str = "sqlite://",
    simulation: SimulationResult | None = None,
    fusion: FusionConfig | None = None,
    workdir: Path | None = None,
    keep: bool = False,
    progress: Progress | None = None,
    alone: bool = True,
    audit: bool = True,
) -> NetworkResult:
    """Run every partner of ``scenario`` as a node in this process (module docstring) and return, per
    partner, the warnings alone and with sharing.

    ``rng_or_seed``: generator or seed for :func:`vigil.sim.simulate` (default: the scenario's seed), unused
    when ``simulation`` is given. ``agreements``: Agreement objects or YAML paths (default: the scenario's
    ``agreements:``). ``bus``: ``memory://`` or ``nats://[user:password@]host:port`` (a stream
    ``VIGIL_RUN_<id>`` over ``vigil.run<id>.share.>`` of its own). ``db``: ``sqlite://`` (a file per node in a
    temporary folder), ``sqlite://:memory:`` (in memory), ``sqlite:///DIR`` (``DIR/<node>.db``) or a PostgreSQL URI (schema
    ``vigil_run_<id>_<node>`` per node). ``keep``: leave the stores, stream and audit logs (in ``workdir``)
    in place; otherwise they are removed at the end. Audit logs are JSON lines, not fsynced (a run, not a
    deployment). ``alone=False``: the nodes do not fuse their own detections alone (``PartnerResult.alone``
    is empty; for a caller that has the alone view of this simulation already). ``audit=False``: no audit
    logs (nothing in the result depends on them; a campaign does not read them). Must not be called from a
    running event loop: use :func:`run_network_async` there.
    """
    return asyncio.run(
        run_network_async(
            scenario,
            rng_or_seed,
            agreements=agreements,
            bus=bus,
            db=db,
            simulation=simulation,
            fusion=fusion,
            workdir=workdir,
            keep=keep,
            progress=progress,
            alone=alone,
            audit=audit,
        )
    )


from .value import launch_view, sharing_summary  # noqa: E402  (the value of sharing, re-exported)

__all__ = [
    "NetworkResult",
    "PartnerResult",
    "launch_view",
    "run_network",
    "run_network_async",
    "sharing_summary",
]
