"""The node's shared view: partners' warnings associated by the scoring gate and fused by CI."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from vigil.fusion.partners.trackfusion import ellipse_cov_km2, from_tangent_km, fuse_warnings, tangent_km
from vigil.scoring import Gate
from vigil.sharing.view import SharedView, gate_cost
from vigil.warning.records import Sources, Warning

AT = "2026-03-01T12:06:00.000000Z"


def _w(event, lat, lon, t=300.0, ellipse=(40.0, 6.0, 1.0), partners=("east",), sensors=("e1", "e2")):  # noqa: PLR0913
    return Warning(
        event_id=event,
        version=1,
        issued_at=AT,
        class_="ballistic",
        launch_time_s=t,
        launch_time_sigma_s=2.0,
        launch_lat_deg=lat,
        launch_lon_deg=lon,
        launch_ellipse=ellipse,
        sources=Sources(sensors, partners),
    )


def test_gate_cost_is_the_scoring_gate():
    lat, lon = from_tangent_km(45.0, 63.3, [0.0, 60.0])
    a, b = _w("a", 45.0, 63.3), _w("b", lat, lon, t=330.0)
    assert gate_cost(a, b, Gate()) == pytest.approx(0.6**2 + 0.5**2, rel=1e-3)


def test_partner_warning_inside_the_gate_is_fused_outside_it_stands_alone():
    view = SharedView()
    own = _w("east-7", 45.0, 63.3)
    [first] = view.own([own])
    assert first.event_id == "east-7" and first.version == 1 and first.sources.partners == ("east",)
    near = from_tangent_km(45.0, 63.3, [20.0, -10.0])
    far = from_tangent_km(45.0, 63.3, [150.0, 0.0])
    got = view.received(
        [
            _w("north:n1", *near, ellipse=(130.0, 5.0, 1.5), partners=("north",), sensors=()),
            _w("north:n2", *far, partners=("north",), sensors=()),
        ]
    )
    by_id = {w.event_id: w for w in got}
    assert set(by_id) == {"east-7", "north:n2"}
    fused = by_id["east-7"]
    assert fused.version == 2 and fused.sources.partners == ("east", "north")
    expect = fuse_warnings(
        own, _w("north:n1", *near, ellipse=(130.0, 5.0, 1.5), partners=("north",)), "north"
    )
    assert (fused.launch_lat_deg, fused.launch_lon_deg) == pytest.approx(
        (expect.launch_lat_deg, expect.launch_lon_deg)
    )
    assert by_id["north:n2"].sources.partners == ("north",)  # as received
    # a new own version is fused with the associated partner estimate again
    [again] = view.own([dataclasses.replace(own, version=2, launch_lat_deg=45.01)])
    assert again.event_id == "east-7" and again.version == 3 and "north" in again.sources.partners
    assert view.fused == 2


def test_a_launch_first_known_from_a_partner_keeps_its_id():
    view = SharedView()
    [p] = view.received([_w("north:n1", 45.0, 63.3, partners=("north",), sensors=())])
    assert p.event_id == "north:n1"
    [joined] = view.own([_w("east-1", 45.05, 63.25)])
    assert joined.event_id == "north:n1" and joined.version == 2
    assert joined.sources.sensors == ("e1", "e2") and joined.sources.partners == ("east", "north")


def test_one_partner_event_joins_one_own_event():
    view = SharedView()
    view.own([_w("a", 45.0, 63.3), _w("b", 45.0, 63.6, t=310.0)])  # 24 km apart, 10 s apart
    got = view.received([_w("north:x", 45.0, 63.58, t=309.0, partners=("north",), sensors=())])
    assert [w.event_id for w in got] == ["b"]


def test_an_own_estimate_that_holds_the_partners_detections_is_not_fused_again():
    view = SharedView()
    own = _w("east-7", 45.0, 63.3, partners=("east", "north"))  # fitted with north's detections too
    view.own([own])
    near = from_tangent_km(45.0, 63.3, [20.0, -10.0])
    [w] = view.received([_w("north:n1", *near, partners=("east", "north"), sensors=())])
    assert w.event_id == "east-7" and w.version == 2
    assert (w.launch_lat_deg, w.launch_lon_deg, w.launch_ellipse) == (45.0, 63.3, own.launch_ellipse)
    assert view.fused == 0


def test_no_two_view_events_share_an_id_when_a_partner_event_loses_its_association():
    view = SharedView()
    own = _w("E1", 45.0, 63.3, partners=("north",), sensors=("n1", "n2"))
    view.own([own])
    near = from_tangent_km(45.0, 63.3, [10.0, 0.0])
    view.received([_w("east:A", *near, partners=("east",), sensors=())])  # joins E1
    # east's sibling event of the same launch wins the one-to-one assignment; A, still in E1's gate, stays E1's
    closer = from_tangent_km(45.0, 63.3, [2.0, 0.0])
    got = view.received(
        [
            _w("east:B", *closer, partners=("east",), sensors=()),
            _w("east:A", *near, t=301.0, partners=("east",), sensors=()),
        ]
    )
    assert {w.event_id for w in got} == {"E1"} and all(w.sources.sensors == ("n1", "n2") for w in got)
    # A moves out of every gate: it stands alone, under an id of its own, and E1's latest version stays E1's
    far = from_tangent_km(45.0, 63.3, [400.0, 0.0])
    [alone] = view.received([_w("east:A", *far, t=302.0, partners=("east",), sensors=())])
    assert alone.event_id == "east:A" and alone.sources.sensors == ()
    latest: dict[str, Warning] = {}
    for w in view.warnings:
        latest[w.event_id] = w
    assert latest["E1"].sources.sensors == ("n1", "n2")
    ids_by_member = {}
    for w in view.warnings:
        ids_by_member.setdefault(w.event_id, set()).add(w.sources.sensors)
    assert ids_by_member["east:A"] == {()}  # never issued under E1's id, nor E1 under A's


def test_a_partner_rooted_event_keeps_its_id_and_the_partner_event_is_renamed_when_it_leaves():
    view = SharedView()
    [p] = view.received([_w("north:n1", 45.0, 63.3, partners=("north",), sensors=())])
    [joined] = view.own([_w("east-1", 45.05, 63.25)])
    assert joined.event_id == "north:n1"
    far = from_tangent_km(45.0, 63.3, [0.0, 500.0])
    [left] = view.received([_w("north:n1", *far, partners=("north",), sensors=())])
    assert left.event_id == "north:n1/2" and left.version == 1
    [again] = view.own([_w("east-1", 45.06, 63.25)])
    assert again.event_id == "north:n1" and again.sources.sensors == ("e1", "e2")


@pytest.mark.parametrize("rho", [0.0, 0.6, 0.95])
def test_fused_view_error_stays_inside_its_stated_ellipse_over_draws(rho):
    """Own and partner estimates of one true launch point drawn from their stated ellipses, their errors
    correlated by ``rho`` (unknown to the fusion): the view's fused launch point falls inside its stated
    ellipse at least as often as the containment says (never optimistic), its time error within its sigma,
    the partner named; the ellipse never tighter than the exact known-correlation fusion (Bar-Shalom–Campo)."""
    rng = np.random.default_rng(5)
    truth = (45.0, 63.3, 300.0)
    pa, pb = ellipse_cov_km2((40.0, 6.0, 1.0), 0.95), ellipse_cov_km2((130.0, 5.0, 1.5), 0.95)
    la, lb = np.linalg.cholesky(pa), np.linalg.cholesky(pb)
    inside, nees_t, n = 0, [], 600
    for _ in range(n):
        z1, z2 = rng.normal(size=3), rng.normal(size=3)
        zb = rho * z1 + math.sqrt(1.0 - rho * rho) * z2
        ea, eb = la @ z1[:2], lb @ zb[:2]
        own = _w("east-1", *from_tangent_km(truth[0], truth[1], ea), t=truth[2] + 2.0 * z1[2])
        other = _w(
            "north:n1",
            *from_tangent_km(truth[0], truth[1], eb),
            t=truth[2] + 2.0 * zb[2],
            ellipse=(130.0, 5.0, 1.5),
            partners=("north",),
            sensors=(),
        )
        view = SharedView()
        view.own([own])
        [fused] = view.received([other])
        assert fused.sources.partners == ("east", "north")
        e = tangent_km(truth[0], truth[1], fused.launch_lat_deg, fused.launch_lon_deg)
        p = ellipse_cov_km2(fused.launch_ellipse, fused.containment)
        inside += float(e @ np.linalg.solve(p, e)) <= -2.0 * math.log(1.0 - fused.containment)
        nees_t.append(((fused.launch_time_s - truth[2]) / fused.launch_time_sigma_s) ** 2)
        # the exact fusion knowing the correlation: its covariance is the smallest a consistent one can be
        cross = rho * la @ lb.T
        s = np.block([[pa, cross], [cross.T, pb]])
        h = np.vstack([np.eye(2), np.eye(2)])
        p_exact = np.linalg.inv(h.T @ np.linalg.solve(s, h))
        assert np.linalg.eigvalsh(p - p_exact).min() >= -1e-6 * np.trace(p)
    sigma = math.sqrt(0.95 * 0.05 / n)
    assert inside / n >= 0.95 - 3.0 * sigma
    assert float(np.mean(nees_t)) <= 1.0 + 3.0 * math.sqrt(2.0 / n)
