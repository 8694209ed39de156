"""Partners' estimates fused with the node's own: track-to-track fusion by covariance intersection."""

from vigil.fusion.partners.trackfusion import covariance_intersection, fuse_warnings

__all__ = ["covariance_intersection", "fuse_warnings"]
