"""`python -m tuneforge ...`: the same as the `tuneforge` command."""

from tuneforge.cli import main

main()
