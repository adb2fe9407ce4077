"""Every Chinese word and colour that more than one place shows: pages, charts, the 简报 and the exports.

A wording change made here reaches the app, the charts and the exported documents alike.  Keys are the
values stored in the database (``severity``, ``review_status``, ``v_submission_status.status``,
the outcome groups of ``v_report_measures``, the 表三 applicant columns).
"""

from __future__ import annotations

# ---------------------------------------------------------------- severity

SEVERITIES = ("error", "warning", "info")
SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}
# the problem-list tag: a shape as well as a colour, so the level reads in black and white too
SEVERITY_LABELS = {"error": "■ 错误", "warning": "▲ 警告", "info": "● 提示"}
SEVERITY_FILL = {"error": "#b71c1c", "warning": "#e65100", "info": "#0d47a1"}      # strong: cards, tags, cell edges
SEVERITY_SOFT = {"error": "#ffcdd2", "warning": "#ffe0b2", "info": "#bbdefb"}      # light: cell backgrounds

# ---------------------------------------------------------------- review

REVIEW_NAMES = {"open": "待处理", "confirmed": "已确认", "dismissed": "已排除"}

# ---------------------------------------------------------------- report status (v_submission_status)

STATUS_NAMES = {"published": "已发布", "late": "逾期发布", "has_errors": "有错误", "wrong_template": "模板不符",
                "missing": "未发布（缺报）"}
STATUS_SHORT = {"published": "", "late": "迟", "has_errors": "错", "wrong_template": "模", "missing": "缺"}
STATUS_ORDER = [STATUS_NAMES[k] for k in ("published", "late", "has_errors", "wrong_template", "missing")]
STATUS_COLORS = ["#4caf50", "#ffb300", "#d32f2f", "#7b1fa2", "#424242"]

# ---------------------------------------------------------------- a stored file's version status (reports.status)

VERSION_STATUS_NAMES = {"current": "现行", "superseded": "已被替代", "duplicate": "重复",
                        "held": "暂未采用（待确认）"}

# ---------------------------------------------------------------- the 结转 chain

CHAIN_NAMES = {"ok": "衔接一致", "break": "衔接断开", "unknown": "缺少数字无法比较", "no_prev": "上年无报告"}
CHAIN_ORDER = list(CHAIN_NAMES.values())
CHAIN_COLORS = ["#4caf50", "#d32f2f", "#ffb300", "#bdbdbd"]

# ---------------------------------------------------------------- 表三 办理结果 groups, in template order

OUTCOME_NAMES = {"granted": "予以公开", "partial": "部分公开", "deny": "不予公开", "unable": "无法提供",
                 "noproc": "不予处理", "other": "其他处理"}
OUTCOME_ORDER = list(OUTCOME_NAMES.values())
OUTCOME_COLORS = ["#1b7a3a", "#8cc98f", "#c62828", "#ef8a17", "#6a3d9a", "#8a8a8a"]

# ---------------------------------------------------------------- 表三 applicant columns

APPLICANT_NAMES = {"natural": "自然人", "commercial": "商业企业", "research": "科研机构",
                   "public_interest": "社会公益组织", "legal_service": "法律服务机构",
                   "other_org": "其他（法人或其他组织）"}
APPLICANT_ORDER = list(APPLICANT_NAMES.values())
APPLICANT_COLORS = ["#1f5fa8", "#5b9bd5", "#9cc3e8", "#2a9d8f", "#88cfc3", "#b0bec5"]
