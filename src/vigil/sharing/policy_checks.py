"""The receiver's checks of a signed envelope against the agreement direction it came under: payload and
policy (releasable fields, valid records, region, precision, delay) and freshness (its times and each
record's own time against the node's clock). A failed check raises :class:`~vigil.sharing.message.Reject`;
the order and kinds are :mod:`vigil.sharing.receiver`'s table."""

from __future__ import annotations

from .agreement import Agreement, Direction
from .envelope import Envelope
from .message import Reject
from .precision import precision_violations
from .records import data_time_s, released_fields, validate_record


def check_payload(env: Envelope, d: Direction) -> None:
    """Each record: its ``partner_id`` (if any) is the signer, it holds only releasable fields, is valid, and
    lies in the direction's region at its precision; the envelope is released no earlier than the delay."""
    records = env.contents
    for i, record in enumerate(records):  # the partner of a record is the verified signer, nothing else
        claimed = record.get("partner_id") if isinstance(record, dict) else None
        if claimed is not None and claimed != env.sender:
            name = "payload" if env.payload is not None else f"records[{i}]"
            raise Reject(
                "partner", f"{name}.partner_id: {str(claimed)[:64]!r} is not the signer {env.sender!r}"
            )
    names = ["payload"] if env.payload is not None else [f"records[{i}]" for i in range(len(records))]
    allowed = released_fields(env.record_type)
    for name, record in zip(names, records, strict=True):
        extra = sorted(set(record) - allowed)
        if extra:
            raise Reject(
                "field_not_released", f"{name}.{extra[0][:60]}: not a releasable {env.record_type} field"
            )
        reason = validate_record(env.record_type, record)
        if reason is not None:
            raise Reject("payload", name + reason.removeprefix("payload"))
        reason = d.region_violation(env.record_type, record)
        if reason is not None:
            raise Reject("region", reason if len(records) == 1 else f"{name}: {reason}")
    for name, reason in zip(
        names, precision_violations(env.record_type, records, d.precision_m), strict=True
    ):
        if reason is not None:
            raise Reject("precision", reason if len(records) == 1 else f"{name}: {reason}")
    if env.release_at < env.created_at + d.delay_s:
        raise Reject(
            "early_release",
            f"release_at is {env.release_at - env.created_at:g} s after created_at, "
            f"the agreement's delay is {d.delay_s:g} s",
        )


def check_time(env: Envelope, delay_s: float, now: float, max_age_s: float, max_skew_s: float) -> None:
    """``release_at`` and ``created_at`` against this node's clock ``now``: no future beyond the skew, no older
    than ``max_age_s`` (``created_at``: plus the agreed delay, which it legitimately precedes release by)."""
    for name, t, age_limit in (
        ("release_at", env.release_at, max_age_s),
        ("created_at", env.created_at, max_age_s + delay_s),
    ):
        if t > now + max_skew_s:
            raise Reject("future", f"{name} is {t - now:.3f} s ahead of this node's clock")
        if now - t > age_limit:
            raise Reject("stale", f"{name} is {now - t:.3f} s old (limit {age_limit:g} s)")


def check_data_times(
    env: Envelope, agreement: Agreement, delay_s: float, now: float, max_age_s: float, max_skew_s: float
) -> None:
    """Each record's own time (:func:`data_time_s`): inside the agreement's validity, not after its
    envelope was created (beyond the skew), released no earlier than the delay after it, and not stale."""
    records = env.contents
    for i, record in enumerate(records):
        t = data_time_s(env.record_type, record)
        if t is None:
            continue
        name = "payload" if env.payload is not None else f"records[{i}]"
        invalid = agreement.validity_violation(t)
        if invalid is not None:
            raise Reject(invalid[0], f"{name}: {invalid[1]}; the data's own time is {t:.3f}")
        if t > env.created_at + max_skew_s:
            raise Reject("future", f"{name}: data time is {t - env.created_at:.3f} s after created_at")
        if env.release_at < t + delay_s:
            raise Reject(
                "early_release",
                f"{name}: released {env.release_at - t:g} s after the data's own "
                f"time, the agreement's delay is {delay_s:g} s",
            )
        if now - t > max_age_s + delay_s:
            raise Reject(
                "stale",
                f"{name}: data time is {now - t:.3f} s old (limit {max_age_s + delay_s:g} s)",
            )
