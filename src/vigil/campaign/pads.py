"""Named launch pads a campaign's launch generator may draw from (``sites: [{pad: NAME}]``).

Public space-launch sites, coordinates rounded from public sources (geodetic degrees, WGS84). The three
Falcon 9 pads are those of ``vigil/data/telemetry/README.md``, so a shipped replay drawn from them starts
where it flew. They are places to start simulated launches from, nothing more.
"""

from __future__ import annotations

PADS: dict[str, tuple[float, float]] = {
    "cape-canaveral-slc40": (28.5618, -80.5772),
    "kennedy-lc39a": (28.6083, -80.6041),
    "vandenberg-slc4e": (34.6321, -120.6106),
    "wallops-lp0": (37.834, -75.488),
    "kourou": (5.239, -52.768),
    "baikonur": (45.920, 63.342),
    "plesetsk": (62.925, 40.577),
    "vostochny": (51.884, 128.334),
    "jiuquan": (40.958, 100.291),
    "taiyuan": (38.849, 111.608),
    "xichang": (28.246, 102.027),
    "wenchang": (19.614, 110.951),
    "tanegashima": (30.400, 130.975),
    "sriharikota": (13.733, 80.235),
    "mahia": (-39.262, 177.865),
}
