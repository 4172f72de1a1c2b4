"""`python -m minidqn`: the command line (minidqn.cli)."""

from minidqn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
