"""Campaign files: a scenario × seeds × variants, YAML validated by a strict schema (unknown keys are errors).

Example (``examples/campaigns/value-of-sharing.yaml``)::

    name: value-of-sharing
    scenario: short-two-partner.yaml     # relative to this file
    seeds: 50                            # seeds first_seed .. first_seed + 49
    first_seed: 0
    sharing: true                        # run each partner's node: alone vs shared rows
    variants:
      - name: as-signed                  # the scenario as written
      - name: no-delay
        agreement: {delay_s: 0}          # every direction of every agreement
      - name: noisy
        sensor: {los_sigma_urad: 40}     # every partner's sensor
        scenario:                        # any scenario key, deep-merged; partners by id
          partners: {east: {sensor: {frame_s: 1.0}}}

A variant's ``scenario`` block is merged onto the scenario document (mappings key by key, ``partners`` by
id when given as a mapping, lists replaced); file paths in it are relative to the campaign file. Every
variant's scenario and agreements are validated when the campaign is loaded, so a bad override is one
:class:`~vigil.errors.ConfigError` line naming ``variants[i]`` and the key before any task runs.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import MAX_SEED, read_yaml, validation_message
from ..errors import ConfigError
from ..sim.scenario import Identifier, parse_scenario, resolve
from .generator import GeneratorSpec, LaunchGenerator, bind_generator

MAX_SEEDS = 1_000_000
_PATH_KEYS = ("agreements", "notifications")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreementOverride(_Strict):
    """Clauses set on every direction of every agreement of the scenario (a field left out is kept)."""

    types: list[str] | None = None
    region: Any = None
    precision_m: float | None = None
    delay_s: float | None = None


class LateSpec(_Strict):
    """Out-of-sequence delivery: a random ``fraction`` of the observations (each independently) reach the
    fusion engine late by a lag uniform in ``[min_s, max_s]``; all are delivered in arrival order, in 1 s ticks
    (:func:`vigil.fusion.oosm.buffer.arrival_ticks`)."""

    fraction: Annotated[float, Field(ge=0.0, le=1.0)]
    min_s: Annotated[float, Field(ge=0.0)] = 0.0
    max_s: Annotated[float, Field(ge=0.0)]

    @model_validator(mode="after")
    def _ordered(self) -> LateSpec:
        if self.max_s < self.min_s:
            raise ValueError("late.max_s: must be at least late.min_s")
        return self


class VariantSpec(_Strict):
    name: Identifier
    scenario: dict[str, Any] = {}
    sensor: dict[str, Any] = {}
    agreement: AgreementOverride | None = None
    late: LateSpec | None = None


class CampaignSpec(_Strict):
    name: Identifier = "campaign"
    scenario: str
    seeds: (
        Annotated[int, Field(ge=1, le=MAX_SEEDS)]
        | Annotated[list[Annotated[int, Field(ge=0, le=MAX_SEED)]], Field(min_length=1)]
    )
    first_seed: Annotated[int, Field(ge=0)] = 0
    sharing: bool = False
    variants: Annotated[list[VariantSpec], Field(min_length=1)] = [VariantSpec(name="baseline")]
    generator: GeneratorSpec | None = None

    @model_validator(mode="after")
    def _unique(self) -> CampaignSpec:
        names = [v.name for v in self.variants]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise ValueError(f"variants[{i}].name: {n!r} is used twice")
        if isinstance(self.seeds, list) and len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds: lists a seed twice")
        return self


@dataclass(frozen=True)
class Variant:
    """One variant, resolved: its scenario document (paths absolute) and agreement documents (or None:
    the scenario's agreement files as written)."""

    name: str
    scenario_doc: dict[str, Any]
    agreement_docs: tuple[dict[str, Any], ...] | None
    late: tuple[float, float, float] | None = None  # (fraction, min_s, max_s): LateSpec


@dataclass(frozen=True)
class Campaign:
    """A validated campaign: the scenario file, the seeds (ordered) and the variants (file order)."""

    name: str
    path: Path
    scenario_path: Path
    seeds: tuple[int, ...]
    sharing: bool
    variants: tuple[Variant, ...]
    generator: LaunchGenerator | None = None  # draws each seed's launches instead of the scenario's


def _merge(base: Any, override: Any) -> Any:
    """``override`` deep-merged onto ``base``: mappings key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v)
        return out
    return copy.deepcopy(override)


def _merge_partners(partners: Any, override: Any, where: str) -> Any:
    """Partners given as ``{id: {...}}`` merge onto the partner of that id; a list replaces them all."""
    if not isinstance(override, dict) or not isinstance(partners, list):
        return copy.deepcopy(override)
    ids = [p.get("id") for p in partners if isinstance(p, dict)]
    for pid in override:
        if pid not in ids:
            raise ConfigError(
                f"{where}.partners.{pid}: no partner {pid!r} in the scenario (has {', '.join(map(str, ids))})"
            )
    return [_merge(p, override[p["id"]]) if p.get("id") in override else p for p in partners]


def _absolute(doc: dict[str, Any], base: Path) -> dict[str, Any]:
    """Paths written in a variant override are relative to the campaign file: make them absolute."""
    out = dict(doc)
    for key in _PATH_KEYS:
        if isinstance(out.get(key), list):
            out[key] = [str((base / p).resolve()) if isinstance(p, str) else p for p in out[key]]
    if isinstance(out.get("partners"), dict):
        out["partners"] = {
            pid: (
                {**p, "constellation": str((base / p["constellation"]).resolve())}
                if isinstance(p, dict) and isinstance(p.get("constellation"), str)
                else p
            )
            for pid, p in out["partners"].items()
        }
    return out


def _scenario_doc(base_doc: dict[str, Any], v: VariantSpec, campaign_dir: Path, where: str) -> dict[str, Any]:
    override = _absolute(v.scenario, campaign_dir)
    doc = dict(base_doc)
    for key, value in override.items():
        doc[key] = (
            _merge_partners(doc.get(key), value, where) if key == "partners" else _merge(doc.get(key), value)
        )
    if v.sensor and isinstance(doc.get("partners"), list):
        doc["partners"] = [
            _merge(p, {"sensor": v.sensor}) if isinstance(p, dict) else p for p in doc["partners"]
        ]
    return doc


def _agreement_docs(
    paths: tuple[Path, ...], override: AgreementOverride, where: str
) -> tuple[dict[str, Any], ...]:
    from ..sharing.agreement import parse_agreement

    clauses = override.model_dump(exclude_none=True)
    docs = []
    for path in paths:
        doc = read_yaml(path, "agreement")
        if not isinstance(doc, dict) or not isinstance(doc.get("directions"), dict):
            raise ConfigError(f"{path}: directions: required mapping is missing")
        doc = {**doc, "directions": {k: {**d, **clauses} for k, d in doc["directions"].items()}}
        parse_agreement(doc, f"{where}.agreement (applied to {path.name})")
        docs.append(doc)
    return tuple(docs)


def _variant(
    v: VariantSpec,
    i: int,
    base_doc: dict[str, Any],
    scenario_path: Path,
    source: str,
    campaign_dir: Path,
    sharing: bool,
) -> Variant:
    where = f"{source}: variants[{i}]"
    doc = _scenario_doc(base_doc, v, campaign_dir, where)
    scenario = resolve(parse_scenario(doc, f"{where}.scenario"), scenario_path)
    if sharing and not scenario.agreements:
        raise ConfigError(f"{where}.scenario.agreements: sharing: true needs at least one agreement")
    if v.agreement is not None and not scenario.agreements:
        raise ConfigError(f"{where}.agreement: the scenario lists no agreements to change")
    agreements = None if v.agreement is None else _agreement_docs(scenario.agreements, v.agreement, where)
    late = None if v.late is None else (v.late.fraction, v.late.min_s, v.late.max_s)
    return Variant(v.name, doc, agreements, late)


def parse_campaign(data: object, path: Path) -> Campaign:
    """Validate a parsed campaign document (``path`` locates relative files); one ConfigError line."""
    source = path.name
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the campaign must be a mapping of keys, not {type(data).__name__}")
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as err:
        raise ConfigError(validation_message(source, err)) from None
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        raise ConfigError(f"{source}: scenario: file not found: {scenario_path}")
    base_doc = read_yaml(scenario_path, "scenario")
    if not isinstance(base_doc, dict):
        raise ConfigError(f"{scenario_path.name}: the scenario must be a mapping of keys")
    base_doc = {
        k: (v.isoformat() if isinstance(v, dt.datetime | dt.date) else v) for k, v in base_doc.items()
    }
    seeds = (
        tuple(range(spec.first_seed, spec.first_seed + spec.seeds))
        if isinstance(spec.seeds, int)
        else tuple(spec.seeds)
    )
    variants = tuple(
        _variant(v, i, base_doc, scenario_path, source, path.parent, spec.sharing)
        for i, v in enumerate(spec.variants)
    )
    generator = None
    if spec.generator is not None:
        duration_s = min(parse_scenario(v.scenario_doc).duration_s for v in variants)
        generator = bind_generator(spec.generator, duration_s, path.parent, f"{source}: generator")
    return Campaign(spec.name, path, scenario_path, seeds, spec.sharing, variants, generator)


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign YAML file (every variant's scenario is checked too)."""
    path = Path(path)
    return parse_campaign(read_yaml(path, "campaign"), path)
