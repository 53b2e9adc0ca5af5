"""`python -m dtbot` runs the CLI."""

from dtbot.cli import main

main()
