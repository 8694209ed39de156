"""The boost-phase filter: a LOS-updated extended Kalman filter per event, its stacked states and its rows."""

from vigil.fusion.boost.batch import run_filters, start_filter
from vigil.fusion.boost.filter import BoostFilter, LosExtendedKalmanFilter
from vigil.fusion.boost.filterstore import FilterStore

__all__ = ["BoostFilter", "FilterStore", "LosExtendedKalmanFilter", "run_filters", "start_filter"]
