"""`python -m servicepulse ...` runs the CLI (works even before the console script is on PATH)."""

from servicepulse.cli import main

main()
