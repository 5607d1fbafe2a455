"""`python -m antigravity_gateway`: the same command line as `agm`."""

from antigravity_gateway.cli import main

if __name__ == "__main__":
    main(prog_name="agm")
