# Shared set-up for scripts/run-app.sh and scripts/test.sh: make sure uv and the locked
# Python environment exist.  Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export UV_PYTHON_DOWNLOADS=never
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "[set-up] 安装 uv（Python 依赖管理工具）…"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
UV="python3 -m uv"
$UV sync --frozen --quiet
