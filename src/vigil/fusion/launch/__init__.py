"""Launch point, time and azimuth: the from-rest ascent back-fit, its model, its compiled core, its seed scan, and mono estimates."""

from vigil.fusion.launch.backfit import AscentBackFitEstimator, AscentModel, LaunchEstimate, LaunchEstimator
from vigil.fusion.launch.mono import mono_launch, point_launch

__all__ = [
    "AscentBackFitEstimator",
    "AscentModel",
    "LaunchEstimate",
    "LaunchEstimator",
    "mono_launch",
    "point_launch",
]
