"""Command line: ``python -m ingest parse|load|demo`` (contract: spec/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_parse(files: list[str]) -> int:
    from ingest.errors import RejectedFile
    from ingest.parse import parse_file

    failed = 0
    for f in files:
        try:
            result = parse_file(f)
        except RejectedFile as e:
            print(f"{f}: {e.reason}", file=sys.stderr, flush=True)
            failed += 1
            continue
        except Exception as e:  # a bug must not end the batch or show a traceback to the user
            print(f"{f}: 解析时发生内部错误（{type(e).__name__}），请将此文件反馈给维护人员", file=sys.stderr, flush=True)
            failed += 1
            continue
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
        sys.stderr.reconfigure(encoding="utf-8")
    p = argparse.ArgumentParser(prog="python -m ingest", description="年报监测：解析、入库与示例数据")
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("parse", help="解析报告文件，逐行输出 JSON（不写数据库）")
    sp.add_argument("files", nargs="+")
    sl = sub.add_parser("load", help="将报告文件或文件夹导入数据库并运行全部核对")
    sl.add_argument("paths", nargs="+")
    sl.add_argument("--db", default="data/nianbao.duckdb")
    sl.add_argument("--manifest", default=None, help="可选 CSV：file,unit,region,year，用于指定文档未写明的单位与年度")
    sl.add_argument("--accept-worse", action="store_true",
                    help="新文件读出的内容明显少于现行版本时（如表格是图片），仍将其设为现行版本")
    sd = sub.add_parser("demo", help="生成示例城市的合成报告（含 truth.jsonl）")
    sd.add_argument("--out", default="data/demo")
    sd.add_argument("--seed", type=int, default=2025)
    sb = sub.add_parser("briefing", help="导出简报（.docx）与整改清单（.xlsx）")
    sb.add_argument("--db", default="data/nianbao.duckdb")
    sb.add_argument("--year", type=int, default=None)
    sb.add_argument("--region", default=None)
    sb.add_argument("--out", default="briefing.docx")
    sb.add_argument("--rectification", default=None, help="整改清单 .xlsx 输出路径")
    args = p.parse_args(argv)
    if args.cmd == "parse":
        return cmd_parse(args.files)
    if args.cmd == "load":
        from ingest.store.loader import run_load

        return run_load(args.paths, db_path=args.db, manifest=args.manifest, accept_worse=args.accept_worse)
    if args.cmd == "demo":
        from ingest.demo.generate import run_demo

        return run_demo(out=args.out, seed=args.seed)
    if args.cmd == "briefing":
        from dashboard.briefing import run_briefing_cli

        return run_briefing_cli(db=args.db, year=args.year, region=args.region, out=args.out,
                                rectification=args.rectification)
    return 2


def run() -> int:
    """``main`` with Ctrl-C turned into one plain line and exit code 130 (never a traceback)."""
    try:
        return main()
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(run())
