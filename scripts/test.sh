#!/usr/bin/env bash
# Run every check nianbao has, on a fresh machine too: installs the locked Python environment
# and (as root, when missing) Debian's chromium and a CJK font for the browser tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
  if [ ${#need[@]} -gt 0 ]; then
    echo "[set-up] 安装系统软件包：${need[*]} …"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null) \
      || echo "[set-up] 警告：系统软件包安装失败，浏览器测试将被跳过"
  fi
fi
$UV run ruff check .
exec $UV run pytest "$@"
