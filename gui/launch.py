"""Console entry point `layerstudio`.

No arguments (or `gui [FILE]`) starts the window; any other sub-command is the headless CLI in
`core.cli`, which never imports Qt. Without a display the window cannot start: Qt would abort the
process (SIGABRT) after several lines about plugins, so the display is checked first and a missing one
is reported in one line with the ways to run the window anyway.
"""
from __future__ import annotations

import os
import sys

#: Qt platforms that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")
NO_DISPLAY_HINT = ("run it under a virtual display with `xvfb-run -a layerstudio` or `bash scripts/setup.sh run`, "
                   "or use the command line (`layerstudio --help`)")


def display_problem(env=None, platform: str | None = None) -> str | None:
    """Why the window cannot open here (one line), or None when a display (or a headless Qt
    platform) is available. Only Linux and the BSDs need a display server."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if qpa.startswith(HEADLESS_PLATFORMS):
        return None
    wayland, display = env.get("WAYLAND_DISPLAY", ""), env.get("DISPLAY", "")
    if qpa.startswith("wayland") and not wayland:
        return "no display: QT_QPA_PLATFORM is wayland but WAYLAND_DISPLAY is not set"
    if not qpa.startswith("xcb") and wayland:
        return None
    if not display:
        return "no display (DISPLAY is not set)"
    host, _, number = display.rpartition(":")
    number = number.split(".")[0]
    if host in ("", "unix") and number.isdigit() and not os.path.exists(f"/tmp/.X11-unix/X{number}"):
        return f"no display: nothing is listening on DISPLAY={display}"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "gui" or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        problem = display_problem()
        if problem:
            print(f"layerstudio: {problem}; {NO_DISPLAY_HINT}", file=sys.stderr)
            return 1
        from .app import run_app
        files = argv[1:] if argv and argv[0] == "gui" else argv
        return run_app(files)
    from core.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
