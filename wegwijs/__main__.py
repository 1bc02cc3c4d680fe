"""`python -m wegwijs` runs the same command as the `wegwijs` script."""

from wegwijs.cli import main

main()
