"""Telemetry replay of the shipped Falcon 9 profiles, and the CSV reader's rejections."""

import math
from importlib import resources

import numpy as np
import pytest

from vigil.errors import DataError
from vigil.flight.orbit import perigee_altitude_m
from vigil.flight.replay import read_telemetry, replay
from vigil.frames import ecef_to_geodetic, enu_basis

# pad and azimuth per flight, from data/telemetry/README.md
TABLE = {
    "spacex-crs-8": (28.5618, -80.5772, 45.0),
    "thaicom-8": (28.5618, -80.5772, 90.0),
    "echostar-23": (28.6083, -80.6041, 90.0),
    "jason-3": (34.6321, -120.6106, 150.4),
    "iridium-next-6": (34.6321, -120.6106, 175.6),
}


def _csv(name):
    return resources.files("vigil") / "data" / "telemetry" / f"{name}.csv"


def test_crs8_starts_on_its_pad_and_heads_along_its_azimuth_at_60_km():
    tr = replay(_csv("spacex-crs-8"), 28.5618, -80.5772, 1000.0, 45.0)
    lat, lon, alt = ecef_to_geodetic(tr.r_ecef_m)
    assert math.degrees(lat[0]) == pytest.approx(28.5618, abs=1e-7)
    assert math.degrees(lon[0]) == pytest.approx(-80.5772, abs=1e-7)
    k = int(np.argmin(np.abs(alt - 60e3)))
    east, north, _ = enu_basis(lat[k], lon[k])
    heading = math.degrees(math.atan2(tr.v_ecef_m_s[k] @ east, tr.v_ecef_m_s[k] @ north))
    assert abs(heading - 45.0) < 0.5
    assert tr.kind == "space_launch" and tr.t_s[0] == 1000.0
    assert tr.events["staging_1"] == 1155.0 and tr.events["burnout"] == 1594.0


@pytest.mark.parametrize("name", sorted(TABLE))
def test_replay_speed_matches_the_files_speed_column_and_reaches_orbit(name):
    tr = replay(_csv(name), *TABLE[name][:2], 0.0, TABLE[name][2])
    cols, _ = read_telemetry(_csv(name))
    err = np.linalg.norm(tr.v_ecef_m_s, axis=1) - cols["speed_m_s"]
    assert np.median(np.abs(err[10:])) < 30.0 and np.max(np.abs(err[10:])) < 100.0  # m/s
    assert perigee_altitude_m(tr.r_ecef_m[-1], tr.v_ecef_m_s[-1]) > 130e3
    assert "orbit" in tr.events
    assert np.all((tr.stage == 0) == (tr.t_s < tr.events["meco"]))
    assert np.all((tr.intensity_w_sr > 0) == (tr.stage >= 0))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_replay_on_surface_arc_reaches_perigee_above_150_km(name):
    # issue 3's check, with the downrange column taken literally as the surface arc
    tr = replay(_csv(name), *TABLE[name][:2], 0.0, TABLE[name][2], downrange_at_altitude=False)
    assert perigee_altitude_m(tr.r_ecef_m[-1], tr.v_ecef_m_s[-1]) > 150e3


GOOD = "# t\n# events_s: meco=5, ses1=6, seco1=9\ntime_s,altitude_m,downrange_m\n" + "".join(
    f"{i}.0,{10 * i * i}.0,{i}.0\n" for i in range(30)
)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace("downrange_m", "range_m"), ":3: header lacks column(s) downrange_m"),
        (GOOD.replace("7.0,490.0,7.0", "7.0,abc,7.0"), ":11: non-numeric field"),
        (GOOD.replace("7.0,490.0,7.0", "7.0,490.0"), ":11: 2 fields, header has 3"),
        (GOOD.replace("7.0,490.0,7.0", "6.0,490.0,7.0"), ":11: time_s does not increase"),
        (GOOD.replace("7.0,490.0,7.0", "7.5,490.0,7.0"), "not uniformly sampled"),
        (GOOD.replace("7.0,490.0,7.0", "7.0,nan,7.0"), ":11: non-finite value"),
        (GOOD.replace("7.0,490.0,7.0", "7.0,490.0,-5000.0"), ":11: downrange_m below"),
        (GOOD.replace("meco=5", "meco=soon"), ":2: event 'meco=soon' is not name=seconds"),
        ("\n".join(GOOD.splitlines()[:10]), "7 data rows"),
    ],
)
def test_malformed_telemetry_is_one_line_data_error(tmp_path, text, needle):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        replay(path, 0.0, 0.0, 0.0, 90.0)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_good_synthetic_file_replays_and_missing_file_fails(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(GOOD)
    tr = replay(path, 0.0, 0.0, 0.0, 90.0)
    _, _, alt = ecef_to_geodetic(tr.r_ecef_m)
    # h = 10 t²: the Savitzky–Golay cubic reproduces the vertical acceleration 20 m/s² exactly
    up = tr.r_ecef_m / np.linalg.norm(tr.r_ecef_m, axis=1, keepdims=True)
    assert np.allclose(alt, 10.0 * np.arange(30.0) ** 2, atol=1e-6)
    assert np.allclose(np.sum(tr.a_ecef_m_s2 * up, axis=1), 20.0, atol=0.05)
    with pytest.raises(DataError, match="cannot read telemetry"):
        replay(tmp_path / "none.csv", 0.0, 0.0, 0.0, 90.0)
