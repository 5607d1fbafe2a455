"""`python -m antigravity_manager`: the same command line as `agm`."""

from antigravity_manager.cli import main

if __name__ == "__main__":
    main(prog_name="agm")
