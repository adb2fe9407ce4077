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

# Debian packages the project uses (as root, when apt-get exists and a package is missing):
#   apt_install "<command or font test>:<package>" …   e.g. apt_install "cmd:soffice:libreoffice-writer-nogui"
apt_install() {
  [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 || return 0
  local need=() spec kind probe pkg
  for spec in "$@"; do
    IFS=: read -r kind probe pkg <<<"$spec"
    case "$kind" in
      cmd) command -v "$probe" >/dev/null 2>&1 || need+=("$pkg") ;;
      font) fc-list 2>/dev/null | grep -qi "$probe" || need+=("$pkg") ;;
    esac
  done
  [ ${#need[@]} -gt 0 ] || return 0
  echo "[set-up] 安装系统软件包：${need[*]} …"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) \
    || echo "[set-up] 警告：系统软件包安装失败（${need[*]}），相关功能与测试将被跳过"
}
