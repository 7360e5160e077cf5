"""The 34 projects of seed 003, made BY HAND by reading the seed text (not from the reader).

One row per project, in the order the indicator blocks appear in the document:
(unit, project name, first indicator name).

How the names were placed. The PDF extraction prints each project's goal and packed
indicators together, but the name cell (indented 4 spaces) lands next to the wrong block:
for two consecutive table rows X, Y it prints  X-block, Y-name, Y-block, X-name;  a row
that is not part of such a pair has its name just before or just after its block. Each
placement below was checked against the content: the goal paragraph and the indicators
must be about what the name says (派驻纪检监察组 ↔ "开展派驻纪检监察组工作", 因公出国 ↔
"赴国（境）外参加展会", 购置经费 ↔ "更新购置车辆" / "购置其他小型客车", …).

Placed by the pair rule with only weak support from the content (both candidates are
信息化运维 projects with similar goals): rows marked  # pair-rule.
"""

from __future__ import annotations

BUREAU = "广州市工业和信息化局"
CENTRE = "广州市工业和信息化产业发展中心"
STATION = "广州市无线电监测站"

SEED003_PROJECTS: list[tuple[str, str, str]] = [
    # --- 局本级: 12 projects / 87 indicators -----------------------------------------
    (BUREAU, "支持发展第8.5代OLED显示器件生产项目", "支持发展第8.5代有机发光二极管显示器件企业数"),
    (BUREAU, "支持发展第8.6代TFT-LCD氧化物半导体显示器件生产项目", "支持发展平板显示产业项目数量"),
    (BUREAU, "支持发展第10.5代TFT-LCD显示器件生产项目", "支持发展平板显示产业项目数量"),
    (BUREAU, "综合工作经费", "中小微企业运行月度分析报告"),
    (BUREAU, "工业工作经费", "2023 广州国际数控机床展览会举办同期活动场次"),
    (BUREAU, "派驻纪检监察组工作经费", "纪检监察开展次数"),
    (BUREAU, "购置经费", "车辆采购数量"),
    (BUREAU, "其他工业和信息化事业发展经费", "中外企业“走出去”对接活动受益企业数量"),
    (BUREAU, "因公出国（境）工作经费", "出国（境）公务任务完成率"),
    (BUREAU, "其他运行经费", "服务对象满意度"),
    (BUREAU, "工业和信息化培训经费", "举办广州市中小企业发展巡回课堂"),
    (BUREAU, "信息化工作经费", "完善产业链图谱"),
    # --- 广州市工业和信息化产业发展中心: 8 projects / 32 indicators ------------------------
    (CENTRE, "“四化”平台赋能新型工业化建设专题", "开展“四化”评估诊断规上工业企业"),
    (CENTRE, "因公出国（境）经费（广州市工业和信息化产业发展中心）", "开展调研次数"),
    (CENTRE, "中小企业发展专题", "培育规上工业企业"),
    (CENTRE, "资金项目流程管理及工业和信息化项目资金评审工作经费", "完成评审任务数"),
    (CENTRE, "工信产业数据管理工作经费", "产业数据处理服务工作报告数量"),
    (CENTRE, "其他工业和信息化产业发展经费", "总体验收合格率90%"),
    (CENTRE, "广州市高级经济师（含正高级、高级）职称评审工作经费", "组织专项活动场次"),
    (CENTRE, "经济运行分析工作经费", "生成经济运行、工业投资、重大项目情况等各类报告初稿"),
    # --- 广州市无线电监测站: 14 projects / 49 indicators -----------------------------------
    (STATION, "质保中心清算工作经费", "资金支出进度（%）"),
    (STATION, "自动驾驶混行试点示范运营服务", "智能网联汽车（自动驾驶）数量"),
    (STATION, "高质量发展研究经费", "调研报告"),
    (STATION, "广州市工信局2024-2025年信息化运维项目", "运维业务系统数量"),  # pair-rule
    (STATION, "广州市工信经济运行监测和分析系统建设项目", "年度业务量"),
    (STATION, "广州市工信局2023-2024年信息化运维项目", "设备正常运行率"),  # pair-rule
    (
        STATION,
        "广州市工业和信息化局2023年广州市智能网联汽车(自动驾驶)应用示范运营监控平台建设项目",
        "新增信息资源",
    ),
    (STATION, "购置经费", "项目验收合格率（%）"),
    (STATION, "业务用房物业管理费", "物业服务面积数"),
    (STATION, "预备役年度维持性工作经费", "队员使用装备、设备熟练程度"),
    (STATION, "专项工作培训费", "培训和演练"),
    (
        STATION,
        "广州市无线电监测站2024-2025年度信息化运维服务项目",
        "保障单位业务系统正常开展工作",
    ),  # pair-rule
    (STATION, "市工信局无线电监测站2023-2024年信息化运行维护项目", "运维业务系统数量"),  # pair-rule
    (STATION, "购置经费", "购置其他小型客车"),
]

# Indicators per project, counted by hand from the numbering of each block.
SEED003_INDICATOR_COUNTS: list[int] = [
    6,
    6,
    6,
    12,
    15,
    3,
    3,
    13,
    2,
    1,
    8,
    12,  # 局本级 = 87
    13,
    2,
    4,
    2,
    3,
    2,
    2,
    4,  # 中心 = 32
    2,
    2,
    2,
    3,
    4,
    7,
    4,
    2,
    3,
    4,
    5,
    1,
    6,
    4,  # 监测站 = 49
]
