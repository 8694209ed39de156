"""Make the shared truth helper (fusion_truth.py) importable by the fusion tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
