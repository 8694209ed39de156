"""The application layer: commands that compose the libraries below them (``vigil run``, ``vigil demo``).

Each role package's own ``commands.py`` drives that role alone (``vigil simulate``, ``vigil fuse``,
``vigil coverage`` …); a command that chains several roles (simulate → fuse → score → partner nodes) lives
here, so that no library imports a layer above it (docs/architecture.md, "Layers").
"""
