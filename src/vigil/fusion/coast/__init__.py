"""After the boost: burnout state, impact point with its ellipse, ballistic / space-launch class, display track."""

from vigil.fusion.coast.burnout import smooth_burnout
from vigil.fusion.coast.classify import Classifier, ThresholdEnergyClassifier
from vigil.fusion.coast.classify_sigma import EnergyClassifier
from vigil.fusion.coast.impact import ImpactPrediction, ImpactPredictor, UnscentedImpactPredictor

__all__ = [
    "Classifier",
    "EnergyClassifier",
    "ImpactPrediction",
    "ImpactPredictor",
    "ThresholdEnergyClassifier",
    "UnscentedImpactPredictor",
    "smooth_burnout",
]
