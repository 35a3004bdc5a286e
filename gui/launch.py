"""Console entry point `layerstudio`.

No arguments (or `gui [FILE]`) starts the window; any other sub-command is the headless CLI in
`core.cli`, which never imports Qt.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "gui" or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        from .app import run_app
        files = argv[1:] if argv and argv[0] == "gui" else argv
        return run_app(files)
    from core.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
