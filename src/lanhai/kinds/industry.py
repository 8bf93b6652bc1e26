"""The industry resource database (产业资源库): platforms, projects, achievements, teams,
funds, products and approvals, as a programme office keeps them in spreadsheets.

Every kind carries the city plan's sector and task (its six tasks, :data:`TASKS`), where
the fact is published (``source``), and the organisation record (LHOG…) that hosts, runs or
holds it. Approvals carry their official number, checked against the form its type takes
(NMPA acceptance numbers, 国药准字, device certificates and filings, cosmetics, pesticides,
aquatic and crop varieties, patents) and against the day it was granted.

Identity (what makes two rows the same record, so that importing a table again changes
nothing): the office's own ``reference`` when given (``platform:<reference>``), the record's
natural key (``platform:<host>:<name>``; a project, achievement, team or product by its
organisation and name; a fund by its name) and any ``identifiers``. An approval with a
number is ``approval:<type>:<number>``; one without (a clinical trial a news item reports)
is keyed by type, holder, product and day granted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import market, vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, require_one_of, unique
from lanhai.kinds.vocab import FieldError, ValueContext

INDUSTRY = "Lanhai industry resource database (the city plan's sectors and six tasks)"
APPROVALS = ("Lanhai industry resource database: NMPA, ICAMA, MARA and CNIPA numbers")

#: the city plan's six tasks, in the plan's order (1-6)
TASKS = ("base", "platform", "pharma", "food_health", "materials_energy",
         "agriculture_environment")
_TASK_ALIASES = {
    "1": "base", "任务1": "base", "任务一": "base", "基础技术": "base",
    "basic technology": "base", "base technology": "base", "基础技术研究": "base",
    "2": "platform", "任务2": "platform", "任务二": "platform", "平台工具": "platform",
    "platform tools": "platform", "平台": "platform",
    "3": "pharma", "任务3": "pharma", "任务三": "pharma", "医药": "pharma",
    "生物医药": "pharma", "pharmaceutical": "pharma", "medicine": "pharma",
    "4": "food_health", "任务4": "food_health", "任务四": "food_health",
    "食品与健康": "food_health", "食品": "food_health", "大健康": "food_health",
    "food and health": "food_health",
    "5": "materials_energy", "任务5": "materials_energy", "任务五": "materials_energy",
    "材料与能源": "materials_energy", "materials and energy": "materials_energy",
    "6": "agriculture_environment", "任务6": "agriculture_environment",
    "任务六": "agriculture_environment",
    "农业与环境": "agriculture_environment",
    "agriculture and environment": "agriculture_environment",
}
#: the longest name, title or product name (natural keys hold it, and they are bounded)
NAME_LENGTH = 200


# --- shared normalisers ------------------------------------------------------------------------

def bounded_text(value: Any, ctx: ValueContext, name: str) -> str:
    """Text of at most :data:`NAME_LENGTH` characters (a name or title)."""
    out = vocab.text(value, ctx, name)
    if len(out) > NAME_LENGTH:
        raise FieldError(f"is {len(out)} characters long; a name is at most {NAME_LENGTH}",
                         "shorten it and put the rest in description")
    return out


_YEAR_FIRST = re.compile(r"^(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?$")


def full_date(value: Any, ctx: ValueContext, name: str) -> str:
    """A complete date (vocab.full_date), also written year first the Chinese way:
    2021年12月3日, 2021.12.3, 2021/12/03."""
    if isinstance(value, str):
        match = _YEAR_FIRST.match(unicodedata.normalize("NFKC", value).strip())
        if match:
            value = f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}"
    return vocab.full_date(value, ctx, name)


#: yuan per unit of an amount ("1200万元", "1.5亿", or a bare number in --unit's unit)
AMOUNT_UNITS = {
    "元": 1, "yuan": 1, "cny": 1, "rmb": 1, "千元": 10**3, "万": 10**4, "万元": 10**4,
    "百万": 10**6, "百万元": 10**6, "million": 10**6, "千万": 10**7, "千万元": 10**7,
    "亿": 10**8, "亿元": 10**8, "billion": 10**9,
}
_AMOUNT = re.compile(r"^(?:cny|rmb|¥)?(\d+(?:\.\d+)?)([^\d.]*)$")
_AMOUNT_EXAMPLES = "1200万元, 1.2亿元"


def amount_cny(value: Any, ctx: ValueContext, name: str) -> int:
    """An amount in whole yuan: 12000000, 1200万元, 1.2亿, ¥3,500,000. A bare number is in
    yuan unless the import says otherwise (``--unit investment_cny=万元``). Computed exactly
    (decimal), never through floating point."""
    if isinstance(value, bool):
        raise FieldError("is a yes/no value, not an amount", f"write e.g. {_AMOUNT_EXAMPLES}")
    raw = unicodedata.normalize("NFKC", vocab.text(value, ctx, name)).lower()
    raw = re.sub(r"[\s,]", "", raw)
    match = _AMOUNT.match(raw)
    if match is None:
        raise FieldError("is not an amount of money",
                         f"write yuan (12000000) or with a unit: {_AMOUNT_EXAMPLES}")
    unit = match[2] or ctx.units.get(name, "元").lower()
    if unit not in AMOUNT_UNITS:
        raise FieldError(f"has the unit {unit!r}, which is no unit of yuan",
                         "use one of: " + ", ".join(AMOUNT_UNITS))
    try:
        amount = Decimal(match[1]) * AMOUNT_UNITS[unit]
    except InvalidOperation:
        raise FieldError("is not an amount of money",
                         f"write e.g. {_AMOUNT_EXAMPLES}") from None
    if amount != amount.to_integral_value():
        raise FieldError(f"is {amount} yuan, not a whole number of yuan",
                         "give the amount to the yuan")
    return int(amount)


# --- fields every industry kind shares -----------------------------------------------------------

def _names(noun: str, zh: str) -> tuple[Field, ...]:
    """The bilingual name: ``name`` and ``name_zh`` (one of the two is needed)."""
    return (
        Field("name", bounded_text, group="Industry",
              aliases=("english name", "name en", f"{noun} name", "英文名称"),
              description=f"The {noun}'s name in English (this or name_zh is needed)."),
        Field("name_zh", bounded_text, group="Industry",
              aliases=("chinese name", "name zh", f"{zh}名称", "名称", "中文名称"),
              description=f"The {noun}'s name in Chinese."),
    )


def _organisation(name: str, what: str, aliases: tuple[str, ...]) -> Field:
    return Field(name, market.organisation_accession, group="Industry",
                 aliases=(f"{name} accession", *aliases),
                 description=f"The organisation record (LHOG…) that {what}; it must exist.",
                 example="LHOG0000001")


_SECTOR = Field("sector", vocab.choice(market.SECTORS, market._SECTOR_ALIASES), group="Industry",
                aliases=("industry", "行业", "产业", "所属产业", "产业领域", "应用领域",
                         "所属领域"),
                description="Industry sector: " + ", ".join(market.SECTORS) + ".",
                example="pharma")
_TASK = Field("task", vocab.choice(TASKS, _TASK_ALIASES), group="Industry",
              aliases=("plan task", "重点任务", "任务", "所属任务", "任务方向"),
              description="The plan's task (1-6): " + ", ".join(TASKS) + ".",
              example="platform")
_DISTRICT = Field("district", market.district_code, group="Industry",
                  aliases=("district code", "所在区", "所在区市", "区市", "区县",
                           "行政区划代码"),
                  description="GB/T 2260 district code (or a district of the city by name).",
                  example="370212")
_SOURCE = Field("source", group="Industry",
                aliases=("source url", "url", "来源", "信息来源", "资料来源", "出处", "链接",
                         "依据"),
                description="Where the fact is published: a URL or a citation.",
                example="http://kjj.qingdao.gov.cn/…")


def _reference(zh: str) -> Field:
    return Field("reference", group="Industry",
                 aliases=("ref", "our reference", "office reference", "编号", f"{zh}编号",
                          "内部编号"),
                 description="The office's own reference: importing the same table again "
                             "changes the same records.", example="QD-PL-2024-003")


def _recognition(verb_zh: str) -> tuple[Field, ...]:
    return (
        Field("recognised", full_date, group="Industry",
              aliases=("recognised on", "recognized", "date recognised", f"{verb_zh}时间",
                       f"{verb_zh}日期", "批准时间", "获批时间"),
              description="The day it was recognised (YYYY-MM-DD).", example="2023-12-20"),
        Field("recognised_by", group="Industry",
              aliases=("recognized by", "recognising body", f"{verb_zh}部门",
                       f"{verb_zh}单位", f"{verb_zh}机构", "批准部门"),
              description="The body that recognised it.", example="山东省科学技术厅"),
    )


def _common() -> tuple[Field, ...]:
    """COMMON_FIELDS, the description also read from an office's usual headers."""
    return tuple(
        dataclasses.replace(f, aliases=(*f.aliases, "简介", "主要内容", "内容简介", "备注"))
        if f.name == "description" else f for f in COMMON_FIELDS)


def _name_of(fields: Fields, *names: str) -> str:
    return next((str(fields[n]) for n in names if fields.get(n)), "")


def _identifiers(kind: str, owner: str | None, *names: str) -> Callable[[Fields], list[str]]:
    """The reference, the natural key (owner and name, or the name alone) and identifiers."""

    def identifiers(fields: Fields) -> list[str]:
        ref = str(fields.get("reference") or "").strip()
        name = _name_of(fields, *names)
        key = ""
        if name:
            key = f"{kind}:{fields.get(owner) or '-'}:{name}" if owner else f"{kind}:{name}"
        return unique([f"{kind}:ref:{ref}" if ref else "", key,
                       *fields.get("identifiers", [])])

    return identifiers


def _one_name(fields: Fields) -> list[Problem]:
    return require_one_of("name", "name_zh")(fields)


# --- platforms ----------------------------------------------------------------------------------

PLATFORM_TYPES = ("innovation_platform", "key_laboratory", "engineering_centre",
                  "technology_centre", "innovation_centre", "bioresource_centre",
                  "rd_institution", "screening_device", "foundry", "separation_purification",
                  "pilot_scale", "ai_screening")
_PLATFORM_ALIASES = {
    "创新平台": "innovation_platform", "科技创新平台": "innovation_platform",
    "重点实验室": "key_laboratory", "key lab": "key_laboratory",
    "工程技术研究中心": "engineering_centre", "工程研究中心": "engineering_centre",
    "工程中心": "engineering_centre", "engineering center": "engineering_centre",
    "企业技术中心": "technology_centre", "技术中心": "technology_centre",
    "technology center": "technology_centre", "技术创新中心": "innovation_centre",
    "创新中心": "innovation_centre", "制造业创新中心": "innovation_centre",
    "innovation center": "innovation_centre", "生物资源中心": "bioresource_centre",
    "生物资源库": "bioresource_centre", "种质资源库": "bioresource_centre",
    "菌种保藏中心": "bioresource_centre", "biobank": "bioresource_centre",
    "bioresource center": "bioresource_centre", "新型研发机构": "rd_institution",
    "研发机构": "rd_institution", "r&d institution": "rd_institution",
    "new r&d institution": "rd_institution",
    "高通量菌种构建与筛选装置": "screening_device", "高通量筛选装置": "screening_device",
    "高通量菌种构建与筛选平台": "screening_device",
    "high throughput screening": "screening_device", "设计与构建平台": "foundry",
    "设计构建平台": "foundry", "生物铸造厂": "foundry", "biofoundry": "foundry",
    "分离纯化": "separation_purification", "分离纯化平台": "separation_purification",
    "separation and purification": "separation_purification", "千升级中试": "pilot_scale",
    "千升级中试平台": "pilot_scale", "中试平台": "pilot_scale", "中试基地": "pilot_scale",
    "pilot plant": "pilot_scale", "ai药物筛选评价平台": "ai_screening",
    "ai药物筛选": "ai_screening", "人工智能药物筛选评价平台": "ai_screening",
    "ai drug screening": "ai_screening",
}
LEVELS = ("national", "provincial", "municipal")
_LEVEL_ALIASES = {"国家级": "national", "国家": "national", "state": "national",
                  "省级": "provincial", "省": "provincial", "province": "provincial",
                  "市级": "municipal", "市": "municipal", "city": "municipal"}

PLATFORM_FIELDS = (
    _reference("平台"),
    *_names("platform", "平台"),
    Field("platform_type", vocab.choice(PLATFORM_TYPES, _PLATFORM_ALIASES), required=True,
          missing_ok=False, group="Industry",
          aliases=("type", "平台类型", "类型", "平台类别"),
          description="What it is: " + ", ".join(PLATFORM_TYPES) + ".",
          example="key_laboratory"),
    Field("level", vocab.choice(LEVELS, _LEVEL_ALIASES), group="Industry",
          aliases=("platform level", "级别", "平台级别", "层级"),
          description="national, provincial or municipal.", example="provincial"),
    _organisation("host", "hosts it (依托单位)",
                  ("host organisation", "organisation", "依托单位", "承建单位", "建设单位",
                   "单位")),
    *_recognition("认定"),
    _DISTRICT, _SECTOR, _TASK, _SOURCE,
    *_common(),
)

# --- projects -----------------------------------------------------------------------------------

PROJECT_TYPES = ("flagship_industrialisation", "industrialisation", "pilot", "rd")
_PROJECT_ALIASES = {
    "标志性产业化项目": "flagship_industrialisation", "标志性项目": "flagship_industrialisation",
    "flagship": "flagship_industrialisation",
    "flagship industrialization": "flagship_industrialisation",
    "产业化项目": "industrialisation", "产业化": "industrialisation",
    "industrialization": "industrialisation", "中试": "pilot", "中试项目": "pilot",
    "pilot project": "pilot", "研发": "rd", "研发项目": "rd", "科研项目": "rd", "r&d": "rd",
    "research and development": "rd",
}
PROJECT_STATES = ("planned", "underway", "completed", "stopped")
_PROJECT_STATE_ALIASES = {
    "计划": "planned", "拟建": "planned", "筹建": "planned", "谋划": "planned",
    "in progress": "underway", "ongoing": "underway", "在建": "underway",
    "实施中": "underway", "进行中": "underway", "建设中": "underway", "推进中": "underway",
    "已完成": "completed", "完成": "completed", "竣工": "completed", "已竣工": "completed",
    "建成": "completed", "已建成": "completed", "已投产": "completed",
    "终止": "stopped", "已终止": "stopped", "停建": "stopped", "中止": "stopped",
}

PROJECT_FIELDS = (
    _reference("项目"),
    *_names("project", "项目"),
    Field("project_type", vocab.choice(PROJECT_TYPES, _PROJECT_ALIASES), required=True,
          missing_ok=False, group="Industry",
          aliases=("type", "项目类型", "类型", "项目类别"),
          description="What it is: " + ", ".join(PROJECT_TYPES) + ".", example="pilot"),
    _organisation("organisation", "carries it out (承担单位)",
                  ("organization", "承担单位", "实施单位", "项目单位", "建设单位", "单位")),
    Field("started", full_date, group="Industry",
          aliases=("start date", "开工时间", "开始时间", "开始日期", "起始时间", "开工日期"),
          description="The day it began (YYYY-MM-DD).", example="2024-03-01"),
    Field("completed", full_date, group="Industry",
          aliases=("completion date", "竣工时间", "完成时间", "结束时间", "完成日期",
                   "竣工日期"),
          description="The day it was (or is to be) completed; not before it started.",
          example="2026-06-30"),
    Field("investment_cny", amount_cny, group="Industry",
          aliases=("investment", "total investment", "总投资", "投资额", "项目总投资",
                   "计划总投资", "总投资元"),
          description="Total investment in yuan (1200万元 and 1.2亿 are read exactly; a "
                      "column in 万元 is read with --unit investment_cny=万元).",
          example="1200万元"),
    Field("project_status", vocab.choice(PROJECT_STATES, _PROJECT_STATE_ALIASES),
          group="Industry", aliases=("status", "项目状态", "状态", "进展", "建设状态",
                                     "进展情况"),
          description="planned, underway, completed or stopped.", example="underway"),
    _DISTRICT, _SECTOR, _TASK, _SOURCE,
    *_common(),
)


def _project_dates(fields: Fields) -> list[Problem]:
    started, completed = fields.get("started"), fields.get("completed")
    if started and completed and completed < started:
        return [Problem(reason=f"is completed on {completed}, before it started ({started})",
                        fix="check the two dates", field="completed", value=completed)]
    return []


# --- achievements -------------------------------------------------------------------------------

ACHIEVEMENT_TYPES = ("key_technology", "result")
_ACHIEVEMENT_ALIASES = {
    "关键技术突破": "key_technology", "关键技术": "key_technology",
    "关键核心技术": "key_technology", "技术突破": "key_technology",
    "key technology breakthrough": "key_technology", "成果": "result", "科技成果": "result",
    "研究成果": "result", "achievement": "result",
}
APPRAISALS = ("internationally_leading", "internationally_advanced", "domestically_leading",
              "domestically_advanced")
_APPRAISAL_ALIASES = {
    "国际领先": "internationally_leading", "国际领先水平": "internationally_leading",
    "达到国际领先水平": "internationally_leading",
    "international leading": "internationally_leading",
    "国际先进": "internationally_advanced", "国际先进水平": "internationally_advanced",
    "达到国际先进水平": "internationally_advanced",
    "international advanced": "internationally_advanced",
    "国内领先": "domestically_leading", "国内领先水平": "domestically_leading",
    "达到国内领先水平": "domestically_leading", "domestic leading": "domestically_leading",
    "国内先进": "domestically_advanced", "国内先进水平": "domestically_advanced",
    "达到国内先进水平": "domestically_advanced", "domestic advanced": "domestically_advanced",
}

ACHIEVEMENT_FIELDS = (
    _reference("成果"),
    Field("title", bounded_text, group="Industry",
          aliases=("english title", "title en", "name"),
          description="The achievement's title in English (this or title_zh is needed)."),
    Field("title_zh", bounded_text, group="Industry",
          aliases=("chinese title", "title zh", "成果名称", "技术名称", "名称", "标题"),
          description="The achievement's title in Chinese."),
    Field("achievement_type", vocab.choice(ACHIEVEMENT_TYPES, _ACHIEVEMENT_ALIASES),
          required=True, missing_ok=False, group="Industry",
          aliases=("type", "成果类型", "类型", "类别"),
          description="key_technology (a key technology broken through) or result.",
          example="key_technology"),
    Field("appraisal", vocab.choice(APPRAISALS, _APPRAISAL_ALIASES), group="Industry",
          aliases=("appraisal level", "评价结论", "鉴定结论", "评价水平", "鉴定水平",
                   "技术水平"),
          description="The appraisal's conclusion: " + ", ".join(APPRAISALS) + ".",
          example="internationally_leading"),
    Field("appraised", full_date, group="Industry",
          aliases=("appraisal date", "评价时间", "鉴定时间", "评价日期", "鉴定日期"),
          description="The day it was appraised (needed with an appraisal).",
          example="2024-11-08"),
    Field("appraised_by", group="Industry",
          aliases=("appraising body", "评价机构", "鉴定单位", "鉴定机构", "评价单位",
                   "组织评价单位"),
          description="Who appraised it (needed with an appraisal).",
          example="中国生物工程学会"),
    _organisation("organisation", "achieved it (完成单位)",
                  ("organization", "完成单位", "第一完成单位", "承担单位", "单位")),
    _SECTOR, _TASK, _SOURCE,
    *_common(),
)


def _appraisal_complete(fields: Fields) -> list[Problem]:
    if not fields.get("appraisal"):
        return []
    return [Problem(reason=f"is missing: an achievement appraised as "
                           f"{fields['appraisal']} says when and by whom",
                    fix=f"give {name} (e.g. {example})", field=name)
            for name, example in (("appraised", "2024-11-08"),
                                  ("appraised_by", "中国生物工程学会"))
            if not fields.get(name)]


# --- teams ----------------------------------------------------------------------------------------

TEAM_TYPES = ("top_scientist_team", "leading_synbio_team", "innovation_team")
_TEAM_ALIASES = {
    "顶尖科学家团队": "top_scientist_team", "顶尖人才团队": "top_scientist_team",
    "top scientist": "top_scientist_team", "合成生物领军团队": "leading_synbio_team",
    "领军团队": "leading_synbio_team", "leading synthetic biology team": "leading_synbio_team",
    "创新团队": "innovation_team", "科研团队": "innovation_team",
}

TEAM_FIELDS = (
    _reference("团队"),
    *_names("team", "团队"),
    Field("team_type", vocab.choice(TEAM_TYPES, _TEAM_ALIASES), required=True, missing_ok=False,
          group="Industry", aliases=("type", "团队类型", "类型", "类别"),
          description="What it is: " + ", ".join(TEAM_TYPES) + ".",
          example="leading_synbio_team"),
    Field("leader", bounded_text, group="Industry",
          aliases=("team leader", "负责人", "团队负责人", "带头人", "团队带头人",
                   "首席科学家", "领军人才"),
          description="Who leads it.", example="张三"),
    _organisation("organisation", "it works in (依托单位)",
                  ("organization", "依托单位", "所在单位", "单位")),
    *_recognition("认定"),
    _SECTOR, _TASK, _SOURCE,
    *_common(),
)

# --- funds ----------------------------------------------------------------------------------------

FUND_TYPES = ("industry_fund", "guidance_fund", "venture_fund")
_FUND_ALIASES = {
    "产业基金": "industry_fund", "产业投资基金": "industry_fund",
    "引导基金": "guidance_fund", "政府引导基金": "guidance_fund",
    "政府投资引导基金": "guidance_fund", "创投基金": "venture_fund",
    "创业投资基金": "venture_fund", "风险投资基金": "venture_fund", "vc": "venture_fund",
    "venture capital": "venture_fund",
}

FUND_FIELDS = (
    _reference("基金"),
    *_names("fund", "基金"),
    Field("fund_type", vocab.choice(FUND_TYPES, _FUND_ALIASES), required=True, missing_ok=False,
          group="Industry", aliases=("type", "基金类型", "类型", "类别"),
          description="What it is: " + ", ".join(FUND_TYPES) + ".", example="industry_fund"),
    Field("size_cny", amount_cny, group="Industry",
          aliases=("size", "fund size", "基金规模", "规模", "总规模", "认缴规模"),
          description="The fund's size in yuan (50亿元 is read exactly).", example="50亿元"),
    _organisation("manager", "manages it (基金管理人)",
                  ("fund manager", "organisation", "管理人", "基金管理人", "管理机构", "单位")),
    Field("established", full_date, group="Industry",
          aliases=("established on", "成立时间", "成立日期", "设立时间", "设立日期"),
          description="The day it was established.", example="2023-06-30"),
    _SECTOR, _SOURCE,
    *_common(),
)

# --- products -------------------------------------------------------------------------------------

PRODUCT_TYPES = ("flagship_product", "drug", "medical_device", "cosmetic", "food",
                 "pesticide", "material", "enzyme_preparation", "feed", "variety", "other")
_PRODUCT_ALIASES = {
    "标志性产品": "flagship_product", "flagship": "flagship_product", "药品": "drug",
    "药物": "drug", "创新药": "drug", "医疗器械": "medical_device", "器械": "medical_device",
    "device": "medical_device", "化妆品": "cosmetic", "cosmetics": "cosmetic",
    "食品": "food", "保健食品": "food", "功能食品": "food", "农药": "pesticide",
    "生物农药": "pesticide", "材料": "material", "新材料": "material",
    "生物基材料": "material", "酶制剂": "enzyme_preparation", "enzyme": "enzyme_preparation",
    "饲料": "feed", "饲料添加剂": "feed", "品种": "variety", "新品种": "variety",
    "其他": "other", "其它": "other",
}

PRODUCT_FIELDS = (
    _reference("产品"),
    *_names("product", "产品"),
    Field("product_type", vocab.choice(PRODUCT_TYPES, _PRODUCT_ALIASES), required=True,
          missing_ok=False, group="Industry", aliases=("type", "产品类型", "类型", "类别"),
          description="What it is: " + ", ".join(PRODUCT_TYPES) + ".", example="drug"),
    _organisation("organisation", "makes it (所属企业)",
                  ("organization", "所属企业", "生产企业", "研制单位", "企业", "单位")),
    Field("launched", full_date, group="Industry",
          aliases=("launch date", "上市时间", "上市日期", "投产时间"),
          description="The day it came on the market.", example="2025-05-20"),
    _SECTOR, _TASK, _SOURCE,
    *_common(),
)

# --- approvals ------------------------------------------------------------------------------------

APPROVAL_TYPES = ("drug_clinical_trial", "drug_registration", "medical_device_registration",
                  "medical_device_filing", "cosmetics_registration", "cosmetics_filing",
                  "pesticide_registration", "aquatic_variety", "crop_variety", "patent")
_APPROVAL_ALIASES = {
    "药物临床试验批准": "drug_clinical_trial", "临床试验默示许可": "drug_clinical_trial",
    "药物临床试验批件": "drug_clinical_trial", "临床试验批件": "drug_clinical_trial",
    "临床批件": "drug_clinical_trial", "临床试验许可": "drug_clinical_trial",
    "ind": "drug_clinical_trial", "clinical trial": "drug_clinical_trial",
    "药品注册": "drug_registration", "药品注册证书": "drug_registration",
    "药品批准文号": "drug_registration", "drug approval": "drug_registration",
    "医疗器械注册证": "medical_device_registration",
    "医疗器械注册": "medical_device_registration",
    "device registration": "medical_device_registration",
    "第一类医疗器械备案": "medical_device_filing", "医疗器械备案": "medical_device_filing",
    "device filing": "medical_device_filing",
    "特殊化妆品注册": "cosmetics_registration", "特殊化妆品注册证": "cosmetics_registration",
    "化妆品注册": "cosmetics_registration", "普通化妆品备案": "cosmetics_filing",
    "化妆品备案": "cosmetics_filing", "农药登记": "pesticide_registration",
    "农药登记证": "pesticide_registration", "水产新品种": "aquatic_variety",
    "水产新品种审定": "aquatic_variety", "农作物品种审定": "crop_variety",
    "农作物品种登记": "crop_variety", "品种审定": "crop_variety", "品种登记": "crop_variety",
    "专利": "patent", "发明专利": "patent", "专利授权": "patent",
}
DEVICE_CLASSES = ("I", "II", "III")
_DEVICE_CLASS_ALIASES = {
    "1": "I", "2": "II", "3": "III", "一类": "I", "二类": "II", "三类": "III",
    "第一类": "I", "第二类": "II", "第三类": "III", "class i": "I", "class ii": "II",
    "class iii": "III", "ⅰ": "I", "ⅱ": "II", "ⅲ": "III",
}
_DEVICE_TYPES = ("medical_device_registration", "medical_device_filing")
#: the one-character abbreviations of the provinces, as certificates write them (鲁, 粤…)
PROVINCE_ABBREVIATIONS = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇藏陕甘青宁新"
_PROV = f"[{PROVINCE_ABBREVIATIONS}]"
#: each type's number: its form in words and a real-format example
NUMBER_FORMS = {
    "drug_clinical_trial": ("an NMPA acceptance number (受理号): C or J, X or Y, H, S or Z, "
                            "L, S, B or R, then a 2-digit year and a 5-digit serial",
                            "CXSL2101234"),
    "drug_registration": ("国药准字 + H, Z, S or J + 8 digits", "国药准字H20203001"),
    "medical_device_registration": (
        "国械注准, 国械注进, 国械注许 or a province's 械注准 (鲁械注准), then a 4-digit year, "
        "the class (2 or 3), a 2-digit category and a 4-digit serial", "国械注准20213400123"),
    "medical_device_filing": ("国械备 or a province's (and city's) 械备, then a 4-digit year "
                              "and a 4-digit serial", "鲁青械备20200012"),
    "cosmetics_registration": ("国妆特字G or 国妆特进字J + 8 digits (year and serial)",
                               "国妆特字G20190123"),
    "cosmetics_filing": ("a province's abbreviation + G or J + 妆网备字 + 10 digits (year "
                         "and serial), or 国妆网备进字(京) + 10 digits",
                         "鲁G妆网备字2021001234"),
    "pesticide_registration": ("PD, WP, WL or LS + 8 digits starting with the year, or an "
                               "older PD + 5 digits (with -N)", "PD20181234"),
    "aquatic_variety": ("GS-0 + 1-4 + a 3-digit serial + the year", "GS-01-003-2019"),
    "crop_variety": ("国审 or a province's 审 + the crop + 8 digits (year and serial), or GPD "
                     "+ the crop + (year) + 6 digits", "国审稻20210001"),
    "patent": ("a patent or application number", "ZL202010123456.7"),
}
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")


def clean_number(value: Any, ctx: ValueContext, name: str) -> str:
    """An approval number in its normal form: full-width characters half-width, no spaces,
    Latin letters upper-case, no trailing 号 (国械注准 20213400123号 -> 国械注准20213400123)."""
    raw = unicodedata.normalize("NFKC", vocab.text(value, ctx, name))
    raw = _DASHES.sub("-", re.sub(r"\s+", "", raw)).upper()
    raw = raw.removesuffix("号")
    if not raw:
        example = NUMBER_FORMS["drug_registration"][1]
        raise FieldError("is empty", f"give the number, e.g. {example}")
    return raw


@dataclass(frozen=True)
class ApprovalNumber:
    """A checked approval number: its normal form, the year it carries (if any) and the
    device class it names (device certificates and filings)."""

    number: str
    year: int | None = None
    device_class: str | None = None


def _a(approval_type: str) -> str:
    """'a drug registration', 'an aquatic variety'."""
    label = approval_type.replace("_", " ")
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"


def _wrong(approval_type: str, number: str, why: str = "") -> FieldError:
    form, example = NUMBER_FORMS[approval_type]
    reason = f"{number} is not {_a(approval_type)} number" + (f": {why}" if why else "")
    return FieldError(reason, f"write {form}, e.g. {example}")


def _two_digit_year(yy: str) -> int:
    year = 2000 + int(yy)
    return year if year <= dt.date.today().year else year - 100


def _clinical_trial(n: str) -> ApprovalNumber:
    match = re.fullmatch(r"([A-Z]{4})(\d+)", n)
    if match is None:
        raise _wrong("drug_clinical_trial", n)
    if not re.fullmatch(r"[CJ][XY][HSZ][LSBR]", match[1]):
        raise _wrong("drug_clinical_trial", n, f"no NMPA acceptance number starts with "
                     f"{match[1]}")
    if len(match[2]) != 7:
        raise _wrong("drug_clinical_trial", n, f"it has {len(match[2])} digits after "
                     f"{match[1]}, not 7")
    return ApprovalNumber(n, _two_digit_year(match[2][:2]))


def _drug_registration(n: str) -> ApprovalNumber:
    match = re.fullmatch(r"国药准字([A-Z])(\d+)", n)
    if match is None:
        raise _wrong("drug_registration", n)
    letter, digits = match[1], match[2]
    if letter not in "HZSJ":
        raise _wrong("drug_registration", n, f"the letter is {letter}, not H (chemical), "
                     "Z (traditional Chinese), S (biological) or J (imported, packed here)")
    if len(digits) != 8:
        raise _wrong("drug_registration", n, f"it has {len(digits)} digits, not 8")
    if digits[:2] in ("19", "20"):  # since 2002: the year and a serial
        return ApprovalNumber(n, int(digits[:4]))
    if digits[:2] == "10" or digits[:2] in market.PROVINCES:  # renumbered before 2002
        yy = int(digits[2:4])
        return ApprovalNumber(n, 1900 + yy if yy >= 50 else 2000 + yy)
    raise _wrong("drug_registration", n, f"it starts with {digits[:2]}, neither a year nor "
                 "the code of the ministry (10) or a province")


_DEVICE_PREFIX = re.compile(f"(国械注[准进许]|{_PROV}械注准)")


def _device_registration(n: str) -> ApprovalNumber:
    match = _DEVICE_PREFIX.match(n)
    if match is None:
        if "械备" in n:
            raise _wrong("medical_device_registration", n, "it is a class I filing number: "
                         "give the type medical_device_filing")
        raise _wrong("medical_device_registration", n)
    prefix, digits = match[1], n[match.end():]
    if not re.fullmatch(r"\d{11}", digits):
        raise _wrong("medical_device_registration", n, f"{digits!r} after {prefix} is not "
                     "11 digits")
    year, klass = int(digits[:4]), digits[4]
    if year < 2014:
        raise _wrong("medical_device_registration", n, f"the year {year} is before 2014, "
                     "when certificates were first numbered this way")
    if klass not in "123":
        raise _wrong("medical_device_registration", n, f"its class digit is {klass}, not "
                     "1, 2 or 3")
    if klass == "1":
        example = NUMBER_FORMS["medical_device_filing"][1]
        raise _wrong("medical_device_registration", n, "class I devices are filed, not "
                     f"registered: their filing number is like {example} (type "
                     "medical_device_filing)")
    if klass == "3" and not prefix.startswith("国"):
        raise _wrong("medical_device_registration", n, "class III devices are registered by "
                     "the NMPA only; a province registers class II")
    return ApprovalNumber(n, year, "II" if klass == "2" else "III")


def _device_filing(n: str) -> ApprovalNumber:
    match = re.fullmatch(rf"(国|{_PROV}[\u4e00-\u9fff]?)械备(\d+)", n)
    if match is None:
        raise _wrong("medical_device_filing", n)
    digits = match[2]
    if len(digits) != 8:
        raise _wrong("medical_device_filing", n, f"it has {len(digits)} digits, not 8")
    year = int(digits[:4])
    if year < 2014:
        raise _wrong("medical_device_filing", n, f"the year {year} is before 2014, when "
                     "class I devices were first filed")
    return ApprovalNumber(n, year, "I")


def _cosmetics_registration(n: str) -> ApprovalNumber:
    match = re.fullmatch(r"国妆特(进)?字([A-Z])(\d+)", n)
    if match is None:
        raise _wrong("cosmetics_registration", n)
    imported, letter, digits = bool(match[1]), match[2], match[3]
    if letter != ("J" if imported else "G"):
        prefix = n[:n.index("字") + 1]
        raise _wrong("cosmetics_registration", n, f"{prefix} is followed by "
                     f"{'J' if imported else 'G'}, not {letter}")
    if len(digits) != 8:
        raise _wrong("cosmetics_registration", n, f"it has {len(digits)} digits, not 8")
    return ApprovalNumber(n, int(digits[:4]))


def _cosmetics_filing(n: str) -> ApprovalNumber:
    match = (re.fullmatch(rf"{_PROV}[GJ]妆网备字(\d+)", n)
             or re.fullmatch(rf"国妆网备进字\({_PROV}\)(\d+)", n))
    if match is None:
        raise _wrong("cosmetics_filing", n)
    if len(match[1]) != 10:
        raise _wrong("cosmetics_filing", n, f"it has {len(match[1])} digits, not 10")
    return ApprovalNumber(n, int(match[1][:4]))


def _pesticide(n: str) -> ApprovalNumber:
    old = re.fullmatch(r"PD(\d{5})(?:-\d{1,3})?", n)
    if old:
        yy = int(old[1][:2])
        return ApprovalNumber(n, 1900 + yy if yy >= 80 else None)
    match = re.fullmatch(r"([A-Z]{2})(\d+)", n)
    if match is None:
        raise _wrong("pesticide_registration", n)
    if match[1] not in ("PD", "WP", "WL", "LS"):
        raise _wrong("pesticide_registration", n, f"it starts with {match[1]}, not PD, WP, WL "
                     "or LS")
    if len(match[2]) != 8:
        raise _wrong("pesticide_registration", n, f"it has {len(match[2])} digits, not 8")
    year = int(match[2][:4])
    if not 1990 <= year <= dt.date.today().year:
        raise _wrong("pesticide_registration", n, f"its first four digits give the year "
                     f"{year}")
    return ApprovalNumber(n, year)


def _aquatic_variety(n: str) -> ApprovalNumber:
    match = re.fullmatch(r"GS-?(\d{2})-?(\d{3})-?(\d{4})", n)
    if match is None:
        raise _wrong("aquatic_variety", n)
    if match[1] not in ("01", "02", "03", "04"):
        raise _wrong("aquatic_variety", n, f"its category is {match[1]}, not 01 (selected), "
                     "02 (hybrid), 03 (introduced) or 04 (other)")
    year = int(match[3])
    if year < 1996:
        raise _wrong("aquatic_variety", n, f"the year {year} is before 1996, when aquatic "
                     "varieties were first approved")
    return ApprovalNumber(f"GS-{match[1]}-{match[2]}-{match[3]}", year)


def _crop_variety(n: str) -> ApprovalNumber:
    gpd = re.fullmatch(r"GPD([\u4e00-\u9fff]{1,8})\((\d{4})\)(\d+)", n)
    if gpd:
        if len(gpd[3]) != 6:
            raise _wrong("crop_variety", n, f"it has {len(gpd[3])} digits after the year, "
                         "not 6")
        return ApprovalNumber(n, int(gpd[2]))
    match = re.fullmatch(rf"(国|{_PROV})审([\u4e00-\u9fff]{{1,2}})(\d+)", n)
    if match is None:
        raise _wrong("crop_variety", n)
    if len(match[3]) not in (7, 8):  # 7: year and a 3-digit serial, as before 2017
        raise _wrong("crop_variety", n, f"it has {len(match[3])} digits, not 8")
    return ApprovalNumber(n, int(match[3][:4]))


def _patent(n: str) -> ApprovalNumber:
    number = market.patent_number(n)
    application = re.fullmatch(r"CN(\d{8}|\d{12})\.[\dX]", number)
    if application is None:
        return ApprovalNumber(number)
    digits = application[1]
    if len(digits) == 12:
        return ApprovalNumber(number, int(digits[:4]))
    yy = int(digits[:2])
    return ApprovalNumber(number, 1900 + yy if yy >= 85 else 2000 + yy)


_PARSERS: dict[str, Callable[[str], ApprovalNumber]] = {
    "drug_clinical_trial": _clinical_trial, "drug_registration": _drug_registration,
    "medical_device_registration": _device_registration,
    "medical_device_filing": _device_filing,
    "cosmetics_registration": _cosmetics_registration, "cosmetics_filing": _cosmetics_filing,
    "pesticide_registration": _pesticide, "aquatic_variety": _aquatic_variety,
    "crop_variety": _crop_variety, "patent": _patent,
}


def approval_number(approval_type: str, raw: str) -> ApprovalNumber:
    """``raw`` checked as the number of an approval of ``approval_type``; FieldError
    naming the expected form and an example when it does not fit."""
    parse = _PARSERS.get(approval_type)
    if parse is None:
        raise FieldError(f"{approval_type!r} is not an approval type",
                         "use one of: " + ", ".join(APPROVAL_TYPES))
    return parse(clean_number(raw, ValueContext(), "number"))


APPROVAL_FIELDS = (
    Field("approval_type", vocab.choice(APPROVAL_TYPES, _APPROVAL_ALIASES), required=True,
          missing_ok=False, group="Approval",
          aliases=("type", "审批类型", "批准类型", "证书类型", "类型", "类别"),
          description="What was granted: " + ", ".join(APPROVAL_TYPES) + ".",
          example="drug_registration"),
    Field("number", clean_number, group="Approval",
          aliases=("approval number", "certificate number", "批准文号", "注册证号",
                   "注册证编号", "证书编号", "证书号", "登记证号", "受理号", "批准号",
                   "备案号", "备案编号", "审定编号", "登记编号", "品种登记号", "专利号",
                   "编号"),
          description="The official number, checked against the form its type takes "
                      "(optional for a clinical trial).", example="国药准字H20203001"),
    Field("product_name", bounded_text, group="Approval",
          aliases=("product", "english name", "name"),
          description="What it was granted for, in English (this or product_name_zh is "
                      "needed)."),
    Field("product_name_zh", bounded_text, group="Approval",
          aliases=("chinese name", "产品名称", "药品名称", "通用名称", "品种名称", "名称",
                   "专利名称"),
          description="What it was granted for, in Chinese.", example="注射用海藻酸钠"),
    _organisation("holder", "holds it",
                  ("organisation", "organization", "持有人", "申请人", "注册人",
                   "上市许可持有人", "专利权人", "单位", "企业")),
    Field("granted", full_date, required=True, missing_ok=False, group="Approval",
          aliases=("date granted", "grant date", "批准日期", "批准时间", "获批时间",
                   "发证日期", "注册日期", "登记日期", "审定日期", "授权日期", "备案日期"),
          description="The day it was granted (YYYY-MM-DD).", example="2023-08-15"),
    Field("authority", group="Approval",
          aliases=("granted by", "批准机关", "发证机关", "审批部门", "审批机关", "发证部门"),
          description="Who granted it: NMPA, ICAMA, MARA, CNIPA or a province's office.",
          example="NMPA"),
    Field("device_class", vocab.choice(DEVICE_CLASSES, _DEVICE_CLASS_ALIASES), group="Approval",
          aliases=("class", "器械类别", "管理类别", "医疗器械类别"),
          description="A device's class: I, II or III (devices only; it must be the class "
                      "its number names).", example="III"),
    _SECTOR, _TASK, _SOURCE,
    *_common(),
)


def _device_class_for_devices(fields: Fields) -> list[Problem]:
    kind = fields.get("approval_type")
    if fields.get("device_class") and kind not in _DEVICE_TYPES:
        return [Problem(reason=f"is given for a {kind}; only medical devices have a class",
                        fix="leave device_class empty", field="device_class",
                        value=fields["device_class"])]
    return []


def _product_name(fields: Fields) -> list[Problem]:
    return require_one_of("product_name", "product_name_zh")(fields)


def _approval_derive(fields: Fields) -> list[Problem]:
    kind, raw = str(fields["approval_type"]), fields.get("number")
    if not raw:
        if kind == "drug_clinical_trial":
            return []
        form, example = NUMBER_FORMS[kind]
        return [Problem(reason=f"is missing: {_a(kind)} is known by its number",
                        fix=f"give {form}, e.g. {example}", field="number")]
    try:
        parsed = approval_number(kind, str(raw))
    except FieldError as err:
        return [Problem(reason=err.reason, fix=err.fix, field="number", value=str(raw))]
    fields["number"] = parsed.number
    problems = []
    granted = str(fields.get("granted", ""))
    if parsed.year is not None and granted[:4].isdigit() and parsed.year > int(granted[:4]):
        problems.append(Problem(
            reason=f"{parsed.number} carries the year {parsed.year}, after the year it was "
                   f"granted ({granted})",
            fix="check the number and the date granted", field="number",
            value=parsed.number))
    given = fields.get("device_class")
    if given and parsed.device_class and given != parsed.device_class:
        problems.append(Problem(
            reason=f"is class {given}, but {parsed.number} is a class {parsed.device_class} "
                   "device's number",
            fix=f"write {parsed.device_class}, or check the number", field="device_class",
            value=given))
    return problems


def _approval_identifiers(fields: Fields) -> list[str]:
    kind, number = fields.get("approval_type"), fields.get("number")
    if number:
        own = f"approval:{kind}:{number}"
    else:
        product = _name_of(fields, "product_name_zh", "product_name")
        own = (f"approval:{kind}:{fields.get('holder') or '-'}:{product}:"
               f"{fields.get('granted', '')}") if kind and product else ""
    return unique([own, *fields.get("identifiers", [])])


# --- specs ----------------------------------------------------------------------------------------

PLATFORM_SPEC = KindSpec(
    name="platform", prefix="LHPL", title="Platform", standard=INDUSTRY,
    fields=PLATFORM_FIELDS, name_field="name",
    identifiers=_identifiers("platform", "host", "name_zh", "name"), checks=(_one_name,))
PROJECT_SPEC = KindSpec(
    name="project", prefix="LHPJ", title="Industry project", standard=INDUSTRY,
    fields=PROJECT_FIELDS, name_field="name",
    identifiers=_identifiers("project", "organisation", "name_zh", "name"),
    checks=(_one_name, _project_dates))
ACHIEVEMENT_SPEC = KindSpec(
    name="achievement", prefix="LHAC", title="Key technology or result", standard=INDUSTRY,
    fields=ACHIEVEMENT_FIELDS, name_field="title",
    identifiers=_identifiers("achievement", "organisation", "title_zh", "title"),
    checks=(require_one_of("title", "title_zh"), _appraisal_complete))
TEAM_SPEC = KindSpec(
    name="team", prefix="LHTM", title="Team", standard=INDUSTRY, fields=TEAM_FIELDS,
    name_field="name", identifiers=_identifiers("team", "organisation", "name_zh", "name"),
    checks=(_one_name,))
FUND_SPEC = KindSpec(
    name="fund", prefix="LHFD", title="Fund", standard=INDUSTRY, fields=FUND_FIELDS,
    name_field="name", identifiers=_identifiers("fund", None, "name_zh", "name"),
    checks=(_one_name,))
PRODUCT_SPEC = KindSpec(
    name="product", prefix="LHPR", title="Product", standard=INDUSTRY, fields=PRODUCT_FIELDS,
    name_field="name",
    identifiers=_identifiers("product", "organisation", "name_zh", "name"),
    checks=(_one_name,))
APPROVAL_SPEC = KindSpec(
    name="approval", prefix="LHAP", title="Approval", standard=APPROVALS,
    fields=APPROVAL_FIELDS, name_field="product_name", identifiers=_approval_identifiers,
    derive=_approval_derive, checks=(_product_name, _device_class_for_devices))

SPECS = (PLATFORM_SPEC, PROJECT_SPEC, ACHIEVEMENT_SPEC, TEAM_SPEC, FUND_SPEC, PRODUCT_SPEC,
         APPROVAL_SPEC)
#: the industry kinds' names (platform … approval)
INDUSTRY_KINDS = tuple(spec.name for spec in SPECS)
#: the fields of the industry kinds naming an organisation record (LHOG…)
ORGANISATION_REFERENCES = ("organisation", "host", "holder", "manager")


def record_name(kind: str, fields: Fields) -> str:
    """The human name of an industry record: its name (English, else Chinese), an
    achievement's title, an approval's product and number."""
    if kind == "achievement":
        return _name_of(fields, "title", "title_zh")
    if kind == "approval":
        product = _name_of(fields, "product_name", "product_name_zh")
        number = str(fields.get("number") or "")
        return f"{product} ({number})" if product and number else product or number
    return _name_of(fields, "name", "name_zh")
