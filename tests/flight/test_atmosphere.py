"""US Standard Atmosphere 1976 densities against the published table (NOAA-S/T 76-1562, geometric altitude)."""

import numpy as np
import pytest

from vigil.flight.atmosphere import density_kg_m3, density_kg_m3_array, pressure_pa

# (geometric altitude m, density kg/m^3) from the US 1976 tables
US76_TABLE = [
    (0.0, 1.2250),
    (5e3, 0.73643),
    (10e3, 0.41351),
    (15e3, 0.19476),
    (20e3, 0.088910),
    (30e3, 0.018410),
    (40e3, 3.9957e-3),
    (50e3, 1.0269e-3),
    (60e3, 3.0968e-4),
    (70e3, 8.2829e-5),
    (80e3, 1.8458e-5),
    (85999.0, 6.958e-6),
]


@pytest.mark.parametrize(("alt_m", "rho"), US76_TABLE)
def test_density_matches_us1976_table(alt_m, rho):
    assert density_kg_m3(alt_m) == pytest.approx(rho, rel=2e-3)


def test_sea_level_pressure_is_standard():
    assert pressure_pa(0.0) == pytest.approx(101325.0, rel=1e-9)
    assert pressure_pa(11019.1) == pytest.approx(22632.06, rel=1e-4)  # tropopause (11 km geopotential)


def test_exponential_part_matches_vallado_bases_and_joins_us1976():
    # Vallado Table 8-4 base densities at the band bottoms
    for alt_m, rho in [(100e3, 5.297e-7), (200e3, 2.789e-10), (500e3, 6.967e-13)]:
        assert density_kg_m3(alt_m) == pytest.approx(rho, rel=1e-9)
    assert density_kg_m3(86e3) == pytest.approx(density_kg_m3(85999.0), rel=0.01)  # join within 1 %


def test_density_decreases_monotonically_and_vectorizes():
    alt = np.linspace(0.0, 900e3, 2001)
    rho = density_kg_m3_array(alt)
    assert rho.shape == alt.shape and np.all(np.diff(rho) < 0.0)
