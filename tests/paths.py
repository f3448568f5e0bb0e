"""Where the tests find the repository's own files, from any depth of the test tree."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_600559 = ROOT / "engine" / "sample_data" / "600559.csv"  # a copy of shared/data/600559.csv
