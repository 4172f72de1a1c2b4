"""`python -m minidqn`: the command line (minidqn.cli.commands)."""

from minidqn.cli.commands import main

if __name__ == "__main__":
    raise SystemExit(main())
