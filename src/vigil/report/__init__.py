"""Reports: PNG maps (:mod:`vigil.report.maps`) over an offline basemap (:mod:`vigil.report.basemap`)."""
