"""`python -m flows.cli`: the same as the `ism` command."""

from flows.cli import console

if __name__ == "__main__":
    console()
