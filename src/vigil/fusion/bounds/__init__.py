"""Cramér–Rao lower bounds of the launch, burnout and impact estimates, from the estimators' own geometry and noise."""

from vigil.fusion.bounds.crlb import burnout_crlb, impact_crlb, launch_crlb

__all__ = ["burnout_crlb", "impact_crlb", "launch_crlb"]
