"""A partner's node: own observations in, partners' releases in, fusion, releases out, store, audit.

One :class:`Node` per partner. It is driven by *time*, not by a thread of its own, so the same object runs
live (``vigil node``, clock = wall time, :mod:`vigil.sharing.node_config`) and in simulated time
(:func:`vigil.sharing.network.run_network`, clock = the scenario's instant):

1. :meth:`Node.observe` takes a chunk of the node's own detections (an ObservationBatch) and offers each
   one to every partner whose agreement lists ``observation`` (the :class:`~vigil.sharing.releaser.Releaser`
   filters, coarsens, signs and queues it until ``release_at``; denials go to the audit log);
2. :meth:`Node.publish_due` publishes the queued envelopes whose ``release_at`` has come to
   ``<root>.<me>.<partner>.<type>`` (``Nats-Msg-Id`` = message id);
3. :meth:`Node.receive` pulls from the node's durable consumer ``node-<me>`` over ``<root>.*.<me>.>``:
   every message goes through the :class:`~vigil.sharing.receiver.Receiver` (bad ones are rejected and
   audited, never raised), accepted ones are committed to the store in one transaction per batch and
   only then acked (:func:`vigil.sharing.ingest.ingest_batch`) and handed to fusion;
4. :meth:`Node.step` fuses: one :class:`~vigil.fusion.FusionEngine` on the node's own detections
   ("alone") and one on own + received detections ("shared"); the shared engine's warnings are offered
   to partners whose agreement lists ``warning``, and the latest state of each of their events as a
   track record to partners whose agreement lists ``track`` (:func:`~vigil.sharing.conversions.track_record`).
   Received warnings and tracks become partner estimates (:attr:`Node.received_warnings`,
   :attr:`Node.received_tracks`) that the shared view fuses with the node's own
   (:class:`~vigil.sharing.view.SharedView`); received notifications are stored only.

Records and the node's own types convert in :mod:`vigil.sharing.conversions` (on the wire, times are UTC POSIX
seconds; inside the node seconds from its ``epoch``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ..errors import ConfigError, MessageError
from ..fusion import FusionConfig, FusionEngine
from ..records import ObservationBatch
from ..warning.records import Warning
from .agreement import Agreement
from .audit import AuditLog
from .bus import SUBJECT_ROOT, Bus, Message, Subscription, share_subject
from .coarsening import ReleasedErrorModel
from .conversions import (
    event_state,
    observation_records,
    observations_from_records,
    partner_estimates,
    posix_s,
    relative_s,
    track_record,
    warning_record,
)
from .copies import CopyScreen
from .envelope import MAX_RECORDS, Envelope
from .ingest import FETCH_BATCH, ingest_batch
from .keys import KeyRegistry, Signer
from .node_counts import NodeCounts
from .node_inbox import stored_rows
from .receiver import Accepted, Receiver
from .releaser import Releaser
from .store import Store, StoredRecord
from .view import SharedView

RECEIVED_OBS_ID_BASE = 1 << 40
"""Local ids of received detections start here (own ids from a simulation are far below), so partners'
``obs_id`` values, unique only at their source, never collide with the node's own inside fusion."""
RECEIVE_TIMEOUT_S = 10.0
"""Seconds :meth:`Node.receive` waits for messages known to be on the bus before giving up."""


class AloneFusion(Protocol):
    """What the node asks of its *alone* engine (its own detections only): a :class:`FusionEngine`, or a
    stand-in that fuses nothing when the caller has the alone view already (a study of agreement variants)."""

    def ingest(self, batch: ObservationBatch, now_s: float, /) -> list[Any]: ...

    def finish(self, now_s: float, /) -> list[Any]: ...


class _Unfused:
    """The alone engine of a node built with ``fuse_alone=False``: nothing is fused alone (its
    ``alone_warnings`` stay empty). The alone view depends on the simulation only, not on the agreements, so a
    study of agreement variants computes it once per seed."""

    def ingest(self, batch: ObservationBatch, now_s: float, /) -> list[Any]:
        return []

    def finish(self, now_s: float, /) -> list[Any]:
        return []


class Node:
    """One partner's node (see the module docstring). ``clock()`` gives UTC POSIX seconds; by default the
    node's own :attr:`now_s`, which a simulated-time driver sets with :meth:`advance`. ``batch_records``
    (1 … MAX_RECORDS, default 1: one record per envelope) packs up to that many released detections of
    one :meth:`observe` call into one envelope signed once (docs/sharing.md, "Batch envelopes")."""

    def __init__(
        self,
        node_id: str,
        signer: Signer,
        keys: KeyRegistry,
        agreements: Sequence[Agreement],
        bus: Bus,
        store: Store,
        epoch: str,
        audit: AuditLog | None = None,
        *,
        subject_root: str = SUBJECT_ROOT,
        fusion: FusionConfig | None = None,
        clock: Callable[[], float] | None = None,
        new_id: Callable[[], str] | None = None,
        batch_records: int = 1,
        fuse_alone: bool = True,
    ) -> None:
        self.node_id, self.bus, self.store, self.audit, self.epoch = node_id, bus, store, audit, epoch
        if not 1 <= batch_records <= MAX_RECORDS:
            raise ConfigError(f"node {node_id}: batch_records {batch_records} is not in 1..{MAX_RECORDS}")
        self.batch_records = batch_records
        self.subject_root, self.epoch_s = subject_root, posix_s(epoch)
        self.now_s = self.epoch_s
        self.clock = clock or (lambda: self.now_s)
        mine = [a for a in agreements if node_id in a.parties]
        extra = {"new_id": new_id} if new_id is not None else {}
        self.releasers = [
            Releaser(a, node_id, signer, audit, **extra)
            for a in mine
            if a.direction(node_id, a.other(node_id))
        ]
        self.receiver = Receiver(node_id, keys, mine, store, self.clock, audit)
        self.shared = FusionEngine(fusion)
        self.shared.epoch = epoch
        self.alone: AloneFusion = _Unfused()
        if fuse_alone:  # False: the caller has the alone view already (a study of agreement variants)
            alone = FusionEngine(fusion)
            alone.epoch = epoch
            self.alone = alone
        self.alone_warnings: list[Warning] = []
        self.fused_warnings: list[Warning] = []
        self.received_warnings: list[Warning] = []
        self.received_tracks: list[Warning] = []  # partners' tracks as estimates of their launches
        self.view = SharedView()  # own estimates fused track-to-track with partners' warnings and tracks
        self.counts = NodeCounts()
        self._own: list[ObservationBatch] = []
        self._received_obs: list[tuple[str, dict[str, Any]]] = []
        self._accepted: list[Accepted] = []
        self._own_sensors: set[str] = set()
        self._next_local_id = RECEIVED_OBS_ID_BASE
        self._sub: Subscription | None = None
        self._error_model = ReleasedErrorModel()  # what partners' releasers did to their detections
        self._copies = CopyScreen()  # detections held, so that a relayed copy of one is not fused twice
        self._precision_m: dict[str, float] = {}
        for a in mine:
            inbound = a.direction(a.other(node_id), node_id)
            if inbound is not None:
                self._precision_m[a.other(node_id)] = inbound.precision_m

    @property
    def durable(self) -> str:
        return f"node-{self.node_id}"

    @property
    def inbound_filter(self) -> str:
        return f"{self.subject_root}.*.{self.node_id}.>"

    @property
    def time_s(self) -> float:
        """The node's current instant in seconds from its epoch."""
        return self.clock() - self.epoch_s

    async def start(self) -> None:
        """Bind the node's durable consumer (created on first start; resumes where it stopped)."""
        self._sub = await self.bus.subscribe(self.durable, self.inbound_filter)

    def advance(self, now_s: float) -> None:
        """Set the simulated clock (UTC POSIX s); only meaningful with the default clock."""
        self.now_s = float(now_s)

    # --- out ------------------------------------------------------------------------------------
    def offer(self, record_type: str, record: dict[str, Any]) -> int:
        """Offer one record to every partner whose agreement lists its type; return envelopes queued."""
        return self.offer_many(record_type, [record])

    def offer_many(self, record_type: str, records: Sequence[dict[str, Any]]) -> int:
        """Offer records of one type to every partner whose agreement lists it, ``batch_records`` per
        envelope; return envelopes queued."""
        queued = 0
        for releaser in self.releasers:
            if releaser.direction is None or record_type not in releaser.direction.types:
                continue
            self.counts.offered += len(records)
            envelopes, denials = releaser.release_many(record_type, records, self.clock(), self.batch_records)
            self.counts.denied += len(denials)
            self.counts.released += len(records) - len(denials)
            queued += len(envelopes)
        return queued

    def observe(self, batch: ObservationBatch) -> int:
        """Take a chunk of own detections (times from the node's epoch): fuse later, offer now."""
        if not len(batch):
            return 0
        self._own.append(batch)
        self._own_sensors.update(str(s) for s in batch.sensor_id)
        self._copies.hold_own(batch.sensor_id, batch.time_s, batch.sensor_pos_ecef_m, batch.los_ecef)
        if not any(r.direction and "observation" in r.direction.types for r in self.releasers):
            return 0
        return self.offer_many("observation", observation_records(batch, self.epoch_s))

    async def publish_due(self) -> dict[str, int]:
        """Publish every queued envelope whose release time has come; return counts per recipient."""
        sent: dict[str, int] = {}
        now = self.clock()
        for releaser in self.releasers:
            for env in releaser.due(now):
                await self.publish(env)
                sent[env.recipient] = sent.get(env.recipient, 0) + 1
        return sent

    async def publish(self, env: Envelope) -> None:
        subject = share_subject(env.sender, env.recipient, env.record_type, self.subject_root)
        await self.bus.publish(subject, env.to_bytes(), env.msg_id)
        self.counts.published += 1

    # --- in -------------------------------------------------------------------------------------
    def _handle_many(self, messages: list[Message]) -> list[StoredRecord | None]:
        """Receiver on the whole fetched batch (one replay query); an envelope must come on its own subject."""
        return stored_rows(
            messages, self.receiver, self.subject_root, self.counts, self.audit, self._accepted
        )

    async def receive_batch(self, timeout_s: float = 0.5) -> int:
        """One fetch → verify → commit → ack round; accepted records go to fusion only after the commit."""
        if self._sub is None:
            raise MessageError(f"node {self.node_id}: receive before start()")
        self._accepted = []
        try:
            fetched = await ingest_batch(
                self._sub,
                self.store,
                None,
                self.counts.ingest,
                FETCH_BATCH,
                timeout_s,
                handle_many=self._handle_many,
            )
        except BaseException:
            self.receiver.forget(
                a.envelope.msg_id for a in self._accepted
            )  # not stored: redelivery must pass
            raise
        for accepted in self._accepted:
            self._use(accepted)
        self.counts.received += sum(len(a.records) for a in self._accepted)
        self.counts.received_messages += len(self._accepted)
        return fetched

    async def receive(self, expected: int | None = None, timeout_s: float = RECEIVE_TIMEOUT_S) -> int:
        """Receive until ``expected`` deliveries in all have been handled (or one round when None)."""
        if expected is None:
            return await self.receive_batch()
        got = 0
        while self.counts.ingest.fetched < expected:
            n = await self.receive_batch(timeout_s)
            if n == 0:
                raise MessageError(
                    f"node {self.node_id}: {expected - self.counts.ingest.fetched} expected "
                    f"messages did not arrive within {timeout_s:g} s"
                )
            got += n
        return got

    def _use(self, accepted: Accepted) -> None:
        env = accepted.envelope
        if env.record_type == "observation":
            self._received_obs.extend((env.sender, record) for record in accepted.records)
        elif env.record_type in ("warning", "track"):
            usable = partner_estimates(
                env.record_type, env.sender, accepted.records, self.epoch, self.clock()
            )
            (self.received_warnings if env.record_type == "warning" else self.received_tracks).extend(usable)
            self.view.received(usable, from_tracks=env.record_type == "track")

    def restore(self, stored: Iterable[StoredRecord], own: ObservationBatch | None = None) -> int:
        """After a restart: records this node stored before (verified and audited then) and its own
        detections whose time has passed go to the next :meth:`step`, as if just received / observed;
        nothing is released, audited or stored again. Returns the records restored."""
        if own is not None and len(own):
            self._own.append(own)
            self._own_sensors.update(str(s) for s in own.sensor_id)
            self._copies.hold_own(own.sensor_id, own.time_s, own.sensor_pos_ecef_m, own.los_ecef)
        n = 0
        for row in stored:
            if row.recipient != self.node_id:
                continue
            env = Envelope.model_validate(json.loads(row.payload_json))
            self._use(Accepted(env, env.contents[0], row.payload_json.encode("utf-8")))
            n += len(env.contents)
        self.counts.restored += n
        return n

    # --- fusion ---------------------------------------------------------------------------------
    def step(self) -> list[Warning]:
        """Fuse what came since the last step at the node's current instant; offer new shared warnings."""
        now = self.time_s
        own = ObservationBatch.concatenate(self.epoch, self._own)
        received = observations_from_records(
            self._screened(self._received_obs),
            self.epoch,
            self._next_local_id,
            frozenset(self._own_sensors),
            self._error_model,
            self._precision_m,
        )
        self._next_local_id += len(received)
        self.counts.fused_received += len(received)
        self._own, self._received_obs = [], []
        if len(own):
            self.alone_warnings += self.alone.ingest(own, now)
        both = ObservationBatch.concatenate(self.epoch, [b for b in (own, received) if len(b)])
        issued = self.shared.ingest(both, now) if len(both) else []
        self._audit_late()
        return self._issue(issued)

    def _screened(self, rows: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
        """The received detections to fuse: not copies of ones held, naming a sensor
        (:class:`~vigil.sharing.copies.CopyScreen`); the others counted and audited per sender."""
        times = [relative_s(rec["time"], self.epoch_s) for _, rec in rows]
        kept, copies, unnamed = self._copies.screen(rows, times, self._precision_m)
        for kind, index in (("copies", copies), ("unknown_sensor", unnamed)):
            setattr(self.counts, kind, getattr(self.counts, kind) + len(index))
            if self.audit is None:
                continue
            by_sender: dict[str, int] = {}
            for i in index:
                by_sender[rows[i][0]] = by_sender.get(rows[i][0], 0) + 1
            for sender, n in sorted(by_sender.items()):
                self.audit.append(
                    "rejection",
                    {"kind": "copy" if kind == "copies" else kind, "sender": sender, "detections": n},
                )
        self._copies.prune(self.time_s - self.shared.config.lag_horizon_s - 2.0 * self.shared.config.chunk_s)
        return [rows[i] for i in kept]

    def _audit_late(self) -> None:
        """Count (and audit) the received detections the shared engine could not fuse: older than its lag
        horizon, or duplicates of ones it holds (:class:`vigil.fusion.oosm.buffer.IngestCounts`)."""
        fused = self.shared.counts
        for kind, now_n in (("too_late", fused.too_late), ("duplicate", fused.duplicates)):
            new = now_n - getattr(self.counts, kind)
            if new <= 0:
                continue
            setattr(self.counts, kind, now_n)
            if self.audit is not None:
                self.audit.append(
                    "rejection",
                    {"kind": kind, "detections": new, "lag_horizon_s": self.shared.config.lag_horizon_s},
                )
        self.counts.late = fused.late

    def finish(self) -> list[Warning]:
        """End of data: final versions of every event (both engines); offer the shared ones."""
        now = self.time_s
        self.alone_warnings += self.alone.finish(now)
        return self._issue(self.shared.finish(now))

    def conclude(self) -> list[Warning]:
        """The node stops while data may go on (``vigil node`` on SIGTERM): each live event's launch gets its closing
        fit on the detections held (:meth:`~vigil.fusion.engine.FusionEngine.close`; nothing is declared burnt out),
        issued and offered as its last version, so that a node restarted mid-stream ends as one never stopped.
        What came since the last :meth:`step` is fused first."""
        issued = self.step()
        return issued + self._issue(self.shared.close(self.time_s))

    def _issue(self, warnings: list[Warning]) -> list[Warning]:
        self.fused_warnings += warnings
        self.view.own(warnings)
        tracks = any(r.direction and "track" in r.direction.types for r in self.releasers)
        for w in warnings:
            self.offer("warning", warning_record(w, self.epoch_s))
            if tracks:
                self.offer(
                    "track", track_record(w, event_state(self.shared.events, w.event_id), self.epoch_s)
                )
        return warnings

    @property
    def shared_warnings(self) -> list[Warning]:
        """Every version this node has with sharing: its fusion of own + received detections fused
        track-to-track with the warnings and tracks partners released to it (:class:`~vigil.sharing.view.SharedView`;
        partners' events that match none of its own keep their ids ``<partner>:<id>``)."""
        return self.view.warnings

    async def close(self) -> None:
        """Stop pulling (the durable consumer stays on the bus); the bus and the store belong to the caller."""
        if self._sub is not None:
            await self._sub.close()
            self._sub = None
