"""The ``preflight`` command as installed (the console script) and as ``python -m preflight``."""

import gc


def main() -> None:
    """Run the command line. The cyclic garbage collector waits while the modules load: what they
    make lives as long as the process, yet each collection on the way would walk all of it again
    (about a tenth of a cold check's instructions, typer's import included: bench/RESULTS.md).
    Frozen, those objects are left out of the run's collections and of the one at exit."""
    gc.disable()
    try:
        from preflight.cli import main as run
    finally:
        gc.freeze()
        gc.enable()
    run()


if __name__ == "__main__":
    main()
