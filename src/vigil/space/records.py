"""One element set as a reader returns it (:class:`ElementRecord`), and the limits every reader checks.

The readers (:mod:`vigil.space.tle`, :mod:`vigil.space.omm`) build these records and
:mod:`vigil.space.elements` dispatches to the readers and assembles a constellation from them; both sides
import this module, so neither imports the other's module back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgp4.api import Satrec

# Above ~17 rev/day the semi-major axis (GM/n^2)^(1/3) is below the Earth's equatorial radius
# (n = 17 rev/day gives a = 6390 km): no such orbit exists, the value is a typo or a unit error.
MAX_MEAN_MOTION_REV_DAY = 17.0
MAX_CATALOG_NUMBER = 339999  # largest Alpha-5 catalog number (Z9999), Space-Track Alpha-5 note


@dataclass(frozen=True)
class ElementRecord:
    """One element set as read: display name, initialised ``Satrec``, catalog number, and where it was."""

    name: str
    satrec: Satrec
    catalog_number: int
    where: str
