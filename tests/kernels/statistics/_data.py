"""Paths to the shared reference data (never copied into the repository)."""

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "reference"
