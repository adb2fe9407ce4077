#!/usr/bin/env bash
# Run every check nianbao has, on a fresh machine too: installs the locked Python environment
# and (as root, when missing) Debian's chromium and a CJK font for the browser tests, and
# LibreOffice for reading .doc/.wps/.rtf/.odt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
apt_install "cmd:chromium:chromium" "font:Noto Sans CJK:fonts-noto-cjk" "cmd:soffice:libreoffice-writer-nogui"
$UV run ruff check .
exec $UV run pytest "$@"
