#!/usr/bin/env bash
# Start nianbao on the bundled synthetic demo city.  First start: installs the environment,
# generates the demo corpus and loads it (seconds); later starts reuse data/nianbao.duckdb.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
# LibreOffice reads uploaded .doc/.wps/.rtf/.odt reports (without it they are refused, saying so)
apt_install "cmd:soffice:libreoffice-writer-nogui"
DB="${NIANBAO_DB:-data/nianbao.duckdb}"
if [ ! -f "$DB" ]; then
  echo "[set-up] 生成示例数据并导入数据库 $DB …"
  $UV run python -m ingest demo --out data/demo
  $UV run python -m ingest load data/demo --db "$DB"
fi
export NIANBAO_DB="$DB"
exec $UV run streamlit run app.py --server.headless true "$@"
