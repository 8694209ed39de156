"""Vehicles: documented stage stacks read from YAML, validated field by field.

A vehicle file lists its stages bottom-up (thrust in vacuum, specific impulse, masses, aerodynamics and the
plume's radiant intensity) and the payload that flies on after the last burn. Built-in notional vehicles
live in ``vigil/data/vehicles/<name>.yaml``; :func:`load_vehicle` takes such a name or a path. Every error
is one :class:`~vigil.errors.ConfigError` line naming the file, the field and the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vigil.config import read_yaml
from vigil.errors import ConfigError
from vigil.flight.atmosphere import G0_M_S2

KINDS = ("ballistic", "space_launch")
GUIDANCE = ("gravity_turn", "orbit_insertion")


@dataclass(frozen=True)
class Stage:
    """One stage. SI: kg, N, s, m^2, W/sr. ``mdot_kg_s = thrust_vac_n / (isp_vac_s g0)``."""

    name: str
    dry_mass_kg: float
    propellant_mass_kg: float
    thrust_vac_n: float
    isp_vac_s: float
    reference_area_m2: float
    cd: float
    plume_intensity_w_sr: float
    thrust_sl_n: float
    coast_after_s: float = 0.0

    @property
    def mdot_kg_s(self) -> float:
        return self.thrust_vac_n / (self.isp_vac_s * G0_M_S2)

    @property
    def burn_time_s(self) -> float:
        return self.propellant_mass_kg / self.mdot_kg_s


@dataclass(frozen=True)
class Vehicle:
    """A stage stack (bottom first), its payload and its steering programme.

    ``vertical_rise_s``: vertical flight after lift-off; ``pitch_over_s``: duration of the pitch-over at the
    angle ``pitch_kick_deg`` (the loft parameter; default of :func:`vigil.flight.launch.fly`); then a gravity
    turn (thrust along the Earth-relative velocity). ``guidance = orbit_insertion`` steers the last stage to
    a circular orbit at ``target_orbit_alt_m`` instead.
    """

    name: str
    kind: str
    stages: tuple[Stage, ...]
    payload_mass_kg: float
    payload_area_m2: float
    payload_cd: float
    vertical_rise_s: float
    pitch_over_s: float
    pitch_kick_deg: float
    guidance: str = "gravity_turn"
    target_orbit_alt_m: float = 0.0

    @property
    def liftoff_mass_kg(self) -> float:
        return self.payload_mass_kg + sum(s.dry_mass_kg + s.propellant_mass_kg for s in self.stages)


# field -> (type, minimum, maximum, required); numbers are checked minimum <= x <= maximum.
_NUM = (int, float)
_STAGE_FIELDS = {
    "name": (str, None, None, False),
    "dry_mass_kg": (_NUM, 1.0, 1e6, True),
    "propellant_mass_kg": (_NUM, 1.0, 1e7, True),
    "thrust_vac_n": (_NUM, 1.0, 1e8, False),
    "thrust_sl_n": (_NUM, 0.0, 1e8, False),
    "burn_time_s": (_NUM, 1.0, 3600.0, False),
    "isp_vac_s": (_NUM, 50.0, 500.0, True),
    "reference_area_m2": (_NUM, 0.0, 200.0, True),
    "cd": (_NUM, 0.0, 5.0, True),
    "plume_intensity_w_sr": (_NUM, 0.0, 1e9, True),
    "coast_after_s": (_NUM, 0.0, 600.0, False),
}
_PAYLOAD_FIELDS = {
    "mass_kg": (_NUM, 1.0, 1e6, True),
    "reference_area_m2": (_NUM, 0.0, 200.0, True),
    "cd": (_NUM, 0.0, 5.0, True),
}
_TOP_FIELDS = {
    "name": (str, None, None, True),
    "kind": (str, None, None, True),
    "description": (str, None, None, False),
    "sources": (list, None, None, False),
    "vertical_rise_s": (_NUM, 0.0, 120.0, True),
    "pitch_over_s": (_NUM, 0.0, 120.0, True),
    "pitch_kick_deg": (_NUM, 0.0, 89.0, True),
    "guidance": (str, None, None, False),
    "target_orbit_alt_km": (_NUM, 100.0, 2000.0, False),
    "payload": (dict, None, None, True),
    "stages": (list, None, None, True),
}


def _check(where: str, data: object, fields: dict) -> dict:
    """Validate a mapping against ``fields``; return it. Raise one-line ConfigError on the first fault.

    ``where`` is ``"<file>: <field path>"``; a YAML 1.1 float without a sign in its exponent (``2.0e5``)
    is read by PyYAML as a string and reported as a wrong type (write ``2.0e+5``).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    dot = "" if where.endswith(": ") else "."
    for key in data:
        if key not in fields:
            raise ConfigError(f"{where}{dot}{key}: unknown key (allowed: {', '.join(fields)})")
    for key, (typ, lo, hi, required) in fields.items():
        if key not in data:
            if required:
                raise ConfigError(f"{where}{dot}{key}: missing required key")
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, typ):
            name = "number" if typ is _NUM else typ.__name__
            raise ConfigError(f"{where}{dot}{key}: expected a {name}, got {value!r}")
        if lo is not None and not (lo <= value <= hi and math.isfinite(value)):
            raise ConfigError(f"{where}{dot}{key}: {value!r} out of range [{lo:g}, {hi:g}]")
    return data


def _stage(where: str, raw: object, index: int) -> Stage:
    d = _check(where, raw, _STAGE_FIELDS)
    isp = float(d["isp_vac_s"])
    prop = float(d["propellant_mass_kg"])
    if ("thrust_vac_n" in d) == ("burn_time_s" in d):
        raise ConfigError(f"{where}: give exactly one of 'thrust_vac_n' and 'burn_time_s'")
    thrust = (
        float(d["thrust_vac_n"]) if "thrust_vac_n" in d else prop * isp * G0_M_S2 / float(d["burn_time_s"])
    )
    thrust_sl = float(d.get("thrust_sl_n", thrust))
    if thrust_sl > thrust:
        raise ConfigError(f"{where}.thrust_sl_n: {thrust_sl:g} exceeds thrust_vac_n {thrust:g}")
    return Stage(
        name=str(d.get("name", f"stage {index + 1}")),
        dry_mass_kg=float(d["dry_mass_kg"]),
        propellant_mass_kg=prop,
        thrust_vac_n=thrust,
        isp_vac_s=isp,
        reference_area_m2=float(d["reference_area_m2"]),
        cd=float(d["cd"]),
        plume_intensity_w_sr=float(d["plume_intensity_w_sr"]),
        thrust_sl_n=thrust_sl,
        coast_after_s=float(d.get("coast_after_s", 0.0)),
    )


def vehicle_from_dict(data: object, source: str = "<vehicle>") -> Vehicle:
    """Build a :class:`Vehicle` from the parsed YAML mapping; ``source`` names the file in errors."""
    top = f"{source}: "
    d = _check(top, data, _TOP_FIELDS)
    if d["kind"] not in KINDS:
        raise ConfigError(f"{top}kind: {d['kind']!r} is not one of {', '.join(KINDS)}")
    guidance = d.get("guidance", "gravity_turn")
    if guidance not in GUIDANCE:
        raise ConfigError(f"{top}guidance: {guidance!r} is not one of {', '.join(GUIDANCE)}")
    if (guidance == "orbit_insertion") != ("target_orbit_alt_km" in d):
        raise ConfigError(f"{top}target_orbit_alt_km: goes with (and only with) guidance orbit_insertion")
    if not d["stages"]:
        raise ConfigError(f"{top}stages: at least one stage is required")
    stages = tuple(_stage(f"{top}stages[{i}]", s, i) for i, s in enumerate(d["stages"]))
    p = _check(f"{top}payload", d["payload"], _PAYLOAD_FIELDS)
    return Vehicle(
        name=d["name"],
        kind=d["kind"],
        stages=stages,
        payload_mass_kg=float(p["mass_kg"]),
        payload_area_m2=float(p["reference_area_m2"]),
        payload_cd=float(p["cd"]),
        vertical_rise_s=float(d["vertical_rise_s"]),
        pitch_over_s=float(d["pitch_over_s"]),
        pitch_kick_deg=float(d["pitch_kick_deg"]),
        guidance=guidance,
        target_orbit_alt_m=1e3 * float(d.get("target_orbit_alt_km", 0.0)),
    )


def builtin_vehicles() -> list[str]:
    """Names of the vehicles shipped in ``vigil/data/vehicles``."""
    folder = resources.files("vigil") / "data" / "vehicles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_vehicle(name_or_path: str | Path | Vehicle) -> Vehicle:
    """A :class:`Vehicle` from a built-in name (``notional-icbm-3stage``) or a YAML file path."""
    if isinstance(name_or_path, Vehicle):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) or path.exists()):
        if text not in builtin_vehicles():
            raise ConfigError(f"vehicle {text!r}: no such file or built-in ({', '.join(builtin_vehicles())})")
        path = Path(str(resources.files("vigil") / "data" / "vehicles" / f"{text}.yaml"))
    return vehicle_from_dict(read_yaml(path, "vehicle file"), str(path))
