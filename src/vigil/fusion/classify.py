"""Ballistic or space launch, by the orbit a coast state is on.

A state is orbital when its osculating two-body perigee is above :data:`PERIGEE_MIN_ALT_M` (it will not
come down within an orbit; equivalently the specific energy exceeds that of a circular orbit at that
altitude *and* the orbit does not dip below it). Reuses :mod:`vigil.flight.orbit` (inertial velocity
``v + ω×r``, WGS84 GM).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from vigil.flight.orbit import perigee_altitude_m

PERIGEE_MIN_ALT_M = 150e3  # lowest perigee that survives a revolution (drag); a common orbital threshold


class Classifier(ABC):
    """Base of event classifiers: coast state → ``"ballistic"`` | ``"space_launch"`` | ``"unknown"``."""

    @abstractmethod
    def classify(self, r_ecef_m, v_ecef_m_s) -> str: ...


class EnergyClassifier(Classifier):
    """Orbital (``space_launch``) when the perigee altitude exceeds ``perigee_min_alt_m``, else ``ballistic``."""

    def __init__(self, perigee_min_alt_m: float = PERIGEE_MIN_ALT_M) -> None:
        self.perigee_min_alt_m = perigee_min_alt_m

    def classify(self, r_ecef_m, v_ecef_m_s) -> str:
        perigee = float(perigee_altitude_m(np.asarray(r_ecef_m), np.asarray(v_ecef_m_s)))
        if not np.isfinite(perigee):
            return "unknown"
        return "space_launch" if perigee > self.perigee_min_alt_m else "ballistic"
