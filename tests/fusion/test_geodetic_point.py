"""The fast paths of :func:`vigil.frames.ecef_to_geodetic` (one point ``(3,)`` or ``(1, 3)``) give the bits
and types of the numpy code they replace (on one point: 0-d arrays and numpy scalars; on rows: arrays, whose powers
differ), from below the surface to beyond GEO."""

import warnings

import numpy as np

from vigil.frames import WGS84_A_M, WGS84_B_M, WGS84_E2, WGS84_EP2, WGS84_F, ecef_to_geodetic


def _numpy_geodetic(r_ecef_m):
    """The numpy code before the one-point path, verbatim."""
    r = np.asarray(r_ecef_m, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    beta = np.arctan2(z, p * (1.0 - WGS84_F))
    for _ in range(3):
        lat = np.arctan2(
            z + WGS84_EP2 * WGS84_B_M * np.sin(beta) ** 3, p - WGS84_E2 * WGS84_A_M * np.cos(beta) ** 3
        )
        beta = np.arctan2((1.0 - WGS84_F) * np.sin(lat), np.cos(lat))
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    alt = p * np.cos(lat) + z * sin_lat - WGS84_A_M**2 / n
    return lat, lon, alt


def _same(a, b) -> bool:
    """Same type and bits (NaN equal to NaN)."""
    return all(type(u) is type(v) and np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b, strict=True))


def _points(n: int, seed: int) -> np.ndarray:
    """Random ECEF points: uniform directions, radius from below the surface to beyond GEO (log-spaced)."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    radius = np.exp(rng.uniform(np.log(6.3e6), np.log(5e7), n))
    radius[: n // 4] = WGS84_A_M + rng.uniform(
        -2e4, 2e6, n // 4
    )  # near the surface: most of the engine's points
    return d * radius[:, None]


def test_one_point_bits_random():
    points = _points(100_000, 7)
    bad = [i for i, r in enumerate(points) if not _same(ecef_to_geodetic(r), _numpy_geodetic(r))]
    assert not bad, (len(bad), points[bad[:3]])


def test_one_row_bits_random():
    """``(1, 3)`` inputs (the seed scan's best lag, usually one): the array path's bits, whose powers differ."""
    points = _points(100_000, 11)
    bad = [i for i, r in enumerate(points[:, None]) if not _same(ecef_to_geodetic(r), _numpy_geodetic(r))]
    assert not bad, (len(bad), points[bad[:3]])


def test_one_point_bits_edges():
    a, b = WGS84_A_M, WGS84_B_M
    edges = [
        (0.0, 0.0, b),
        (0.0, 0.0, -b),
        (0.0, 0.0, 4.2e7),
        (0.0, 0.0, -1.0),
        (0.0, 0.0, 0.0),
        (-0.0, 0.0, 0.0),
        (a, 0.0, 0.0),
        (-a, 0.0, 0.0),
        (0.0, -a, 0.0),
        (a, -0.0, -0.0),
        (4.2164e7, 0.0, 0.0),
        (1e-300, 0.0, 1.0),
        (1e90, 1e90, -1e90),
        (1e-3, -1e-3, b),
        (-a, -0.0, 0.0),
        (-a, 0.0, -0.0),
    ]
    bad = [r for r in edges if not _same(ecef_to_geodetic(np.array(r)), _numpy_geodetic(np.array(r)))]
    assert not bad
    rows = np.array(edges)
    bad = [r for r in edges if not _same(ecef_to_geodetic(np.array([r])), _numpy_geodetic(np.array([r])))]
    assert not bad
    assert _same(ecef_to_geodetic(rows), _numpy_geodetic(rows))


def test_non_finite_and_inputs():
    """NaN / inf / huge points take the numpy path (same values and warnings); lists and float32 are converted
    as before; other shapes are unchanged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for r in [(np.nan, 0.0, 0.0), (1.0, np.inf, 0.0), (0.0, 0.0, -np.inf), (1e300, 1e300, 1e300)]:
            assert _same(ecef_to_geodetic(np.array(r)), _numpy_geodetic(np.array(r)))
            assert _same(ecef_to_geodetic(np.array([r])), _numpy_geodetic(np.array([r])))
    r = [6.4e6, -1.2e5, 3.3e5]
    assert _same(ecef_to_geodetic(r), _numpy_geodetic(r))
    r32 = np.array(r, dtype=np.float32)
    assert _same(ecef_to_geodetic(r32), _numpy_geodetic(r32))
    batch = _points(1000, 3)
    assert _same(ecef_to_geodetic(batch), _numpy_geodetic(batch))
    for shape in [(2, 3), (1, 1, 3), (2, 2, 3), (0, 3)]:
        grid = batch[: int(np.prod(shape[:-1]))].reshape(shape)
        assert _same(ecef_to_geodetic(grid), _numpy_geodetic(grid))
