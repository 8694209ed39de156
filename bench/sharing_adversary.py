"""Adversary errors quoted in docs/sharing.md ("What each release type reveals").

A partner fits N releases of a track, knowing its true velocity (interval intersection of the released
cells, the best any fit can do); and recovers range from released observations, knowing the true plume
intensity and the sensor's NEI. Run from the repository root: ``.venv/bin/python bench/sharing_adversary.py``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

sys.path.insert(0, "tests")
from sharing.policykit import GEO_ALT_M, NORTH, T0, agreement, ecef, observation  # noqa: E402
from sharing.test_adversary import _crossing_velocity, _interval_fit  # noqa: E402
from vigil.sharing.releaser import Releaser  # noqa: E402

P_M = 5000.0
INTENSITY_W_SR, NEI_W_M2 = 1.5e6, 1e-11


def track_errors(n: int, tracks: int = 25) -> tuple[float, float]:
    """Median position error (m) with the releaser's offsets and with plain rounding, over ``tracks``."""
    rng = np.random.default_rng(120)
    with_offsets, plain = [], []
    for k in range(tracks):
        p0, vel = ecef(rng.uniform(-60, 60), rng.uniform(-180, 180), 200e3), _crossing_velocity(rng)
        t_s = np.arange(n) * 2.0
        releaser = Releaser(agreement(types=["track"], precision_m=P_M), "north", NORTH)
        out = [
            releaser.release(
                "track",
                {
                    "track_id": f"T{k}",
                    "time": T0 - 3000.0 + t,
                    "pos_ecef_m": (p0 + vel * t).tolist(),
                    "vel_ecef_m_s": vel.tolist(),
                },
                T0,
            )[0].payload["pos_ecef_m"]
            for t in t_s
        ]
        with_offsets.append(np.linalg.norm(_interval_fit(np.array(out), t_s, vel, P_M) - p0))
        snapped = np.round((p0 + t_s[:, None] * vel) / P_M) * P_M
        plain.append(np.linalg.norm(_interval_fit(snapped, t_s, vel, P_M) - p0))
    return float(np.median(with_offsets)), float(np.median(plain))


def range_error_m(n: int = 200) -> float:
    rng = np.random.default_rng(4)
    releaser = Releaser(agreement(types=["observation"], precision_m=P_M), "north", NORTH)
    errors = []
    for i in range(n):
        target = (rng.uniform(30, 50), rng.uniform(50, 70))
        rec = observation((40.0, 60.0, GEO_ALT_M), target, obs_id=i)
        r = np.linalg.norm(ecef(*target, 100e3) - np.array(rec["sensor_pos_ecef_m"]))
        rec["snr"], rec["intensity_w_sr"] = INTENSITY_W_SR / r**2 / NEI_W_M2, INTENSITY_W_SR
        snr = releaser.release("observation", rec, T0)[0].payload["snr"]
        errors.append(abs(math.sqrt(INTENSITY_W_SR / (snr * NEI_W_M2)) - r))
    return float(np.median(errors))


if __name__ == "__main__":
    for n in (10, 120, 1000):
        off, plain = track_errors(n)
        print(
            f"track, N={n}: median error {off:.0f} m = {off / P_M:.2f} cell (plain rounding: {plain:.0f} m)"
        )
    print(f"observation range: median error {range_error_m() / 1e3:.0f} km")
