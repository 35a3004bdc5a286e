#!/usr/bin/env bash
# Layer Studio set-up on a fresh Debian machine, idempotent.
#   bash scripts/setup.sh run    install everything, then start the app on the demo model
#   bash scripts/setup.sh test   install everything, then run the whole test suite under Xvfb
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"; shift || true

# --- system packages (Xvfb + the xcb libraries Qt needs; fonts so text renders) -------------------
need=()
for pkg in xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xkb1 \
           libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-cursor0 libegl1 libgl1 libglx-mesa0 \
           libgl1-mesa-dri libfontconfig1 libdbus-1-3 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "setup: installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python environment ---------------------------------------------------------------------------
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# constraints.txt pins every package to the versions CI tested (see README, "Upgrading dependencies")
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into .venv (pinned by constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[test,dev,mlip,screen]"
  rm -f .venv/.installed-*; touch "$stamp"
fi

case "$mode" in
  run)
    if [ -z "${DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" != "offscreen" ]; then
      echo "setup: no display found; starting the app on a virtual X display (Xvfb :97)"
      Xvfb :97 -screen 0 1600x1000x24 >/dev/null 2>&1 & export DISPLAY=:97; sleep 1
    fi
    exec .venv/bin/layerstudio "$@"
    ;;
  test)
    echo "setup: ruff (lint + import order)"; .venv/bin/ruff check .
    echo "setup: import contracts"; PYTHONPATH=. .venv/bin/lint-imports --no-cache | tail -n 3
    echo "setup: mypy (core public API)"; .venv/bin/mypy
    export QT_QPA_PLATFORM=xcb   # under Xvfb (pytest-xvfb); a missing Xvfb is then a hard error
    exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
    ;;
  install) echo "setup: installed; run .venv/bin/layerstudio" ;;
  *) echo "usage: bash scripts/setup.sh run|test|install" >&2; exit 2 ;;
esac
