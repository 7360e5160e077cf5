"""A generator of realistic 绩效目标表 in the import template's shape (csv / xlsx)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

HEADER = [
    "年度",
    "主管部门",
    "单位名称",
    "单位编码",
    "项目名称",
    "项目编码",
    "年度预算数（万元）",
    "实施周期目标",
    "年度目标",
    "一级指标",
    "二级指标",
    "三级指标",
    "实施周期指标值",
    "年度指标值",
    "分值",
]
LEVELS = [
    ("1-产出指标", "11-数量指标"),
    ("1-产出指标", "12-质量指标"),
    ("1-产出指标", "13-时效指标"),
    ("1-产出指标", "14-成本指标"),
    ("2-效益指标", "22-社会效益"),
    ("2-效益指标", "24-可持续影响"),
    ("3-满意度指标", "31-服务对象满意度"),
]
NAMES = [
    "监测报告数量",
    "设备正常运行率",
    "任务完成及时率",
    "单位成本控制",
    "服务企业数量",
    "社会公众知晓率",
    "系统可用率",
    "服务对象满意度",
    "培训人次",
    "抽查站点数",
]
SEED_TARGETS = Path(__file__).resolve().parent.parent / "tests" / "domain" / "seed003_expected_targets.json"


def target_values() -> list[str]:
    """The real target strings of seed 003 (raw), so parsing costs what it costs in life."""
    data = json.loads(SEED_TARGETS.read_text(encoding="utf-8"))["expected"]
    return sorted(row["raw"] for row in data if row["raw"].strip())


def rows(indicators: int, *, year: int = 2024, per_project: int = 10, seed: int = 7):
    """Rows of a table with `indicators` indicators, ~`per_project` per project, 20 projects per unit."""
    rng = random.Random(seed)
    targets = target_values()
    projects = max(1, indicators // per_project)
    n = 0
    for p in range(projects):
        unit = p // 20
        dept = unit // 80
        count = per_project if p < projects - 1 else indicators - n
        budget = f"{rng.randint(10, 500000)}.{rng.randint(0, 9999):04d}"
        for i in range(count):
            level1, level2 = LEVELS[i % len(LEVELS)]
            target = rng.choice(targets)
            yield [
                year,
                f"测试主管部门{dept:03d}",
                f"测试单位{unit:05d}",
                f"U{unit:06d}",
                f"项目{p:06d}",
                f"P{year}{p:017d}",
                budget,
                "实施周期目标说明",
                "年度目标说明",
                level1,
                level2,
                f"{rng.choice(NAMES)}{i}",
                target,
                target,
                "",
            ]
            n += 1


def write_csv(path: Path, indicators: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(indicators))
    return path


def write_xlsx(path: Path, indicators: int) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("绩效目标表")
    ws.append(HEADER)
    for row in rows(indicators):
        ws.append(row)
    wb.save(path)
    return path


def csv_bytes(indicators: int) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows(indicators))
    return buf.getvalue().encode("utf-8-sig")
