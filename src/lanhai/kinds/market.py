"""Technology-market records: organisations, offers (成果) and demands (需求).

Organisations carry the unified social credit code (GB 32100-2015, check character
verified) and a district code (GB/T 2260). Offers and demands carry bilingual text, the
field and sector of the city plan, technology readiness (GB/T 22900, TRL 1-9), transfer types
(GB/T 34670 service types), patents (Chinese application numbers' check digit verified),
a price band, visibility and a review status. An offer or demand that is not published, or
is shown by invitation only, is restricted: readers never see it in any list, count or search.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, require_one_of, unique
from lanhai.kinds.vocab import FieldError, ValueContext

MARKET = "Lanhai technology market (GB/T 22900 TRL, GB/T 34670)"
ORGANISATION = "GB 32100-2015 unified social credit code, GB/T 2260 districts"

#: what an offer or demand is about (the market's sections)
FIELDS_OF_WORK = ("chassis", "enzyme", "part", "pathway", "compound", "process", "strain",
                  "equipment", "service")
_FIELD_ALIASES = {
    "底盘": "chassis", "底盘细胞": "chassis", "底盘菌": "chassis", "酶": "enzyme",
    "酶制剂": "enzyme", "元件": "part", "生物元件": "part", "基因元件": "part",
    "genetic part": "part", "途径": "pathway", "代谢途径": "pathway", "合成途径": "pathway",
    "化合物": "compound", "产品": "compound", "工艺": "process", "技术工艺": "process",
    "菌株": "strain", "菌种": "strain", "设备": "equipment", "装备": "equipment",
    "服务": "service", "技术服务": "service",
}
#: the plan's four industry sectors
SECTORS = ("pharma", "food_health", "materials_energy", "agriculture_environment")
_SECTOR_ALIASES = {
    "医药": "pharma", "生物医药": "pharma", "pharmaceutical": "pharma", "medicine": "pharma",
    "食品": "food_health", "大健康": "food_health", "食品与健康": "food_health",
    "food": "food_health", "food and health": "food_health", "health": "food_health",
    "材料": "materials_energy", "能源": "materials_energy", "材料与能源": "materials_energy",
    "materials": "materials_energy", "energy": "materials_energy",
    "materials and energy": "materials_energy", "农业": "agriculture_environment",
    "环境": "agriculture_environment", "农业与环境": "agriculture_environment",
    "agriculture": "agriculture_environment", "environment": "agriculture_environment",
    "agriculture and environment": "agriculture_environment",
}
#: how a result changes hands (GB/T 34670-2017 service types, as deals record them)
TRANSFER_TYPES = ("licence", "assignment", "co-development", "service", "equity")
_TRANSFER_ALIASES = {
    "license": "licence", "licensing": "licence", "许可": "licence", "专利许可": "licence",
    "实施许可": "licence", "转让": "assignment", "技术转让": "assignment",
    "专利转让": "assignment", "assign": "assignment", "合作开发": "co-development",
    "联合开发": "co-development", "codevelopment": "co-development",
    "joint development": "co-development", "技术服务": "service", "服务": "service",
    "技术咨询": "service", "作价入股": "equity", "入股": "equity", "股权": "equity",
    "技术入股": "equity",
}
#: price bands (CNY): an offer's asking price, a demand's budget
PRICE_BANDS = ("negotiable", "under 500k", "500k-2M", "2M-10M", "over 10M")
_PRICE_ALIASES = {
    "面议": "negotiable", "议价": "negotiable", "50万以下": "under 500k",
    "50万元以下": "under 500k", "50-200万": "500k-2M", "50-200万元": "500k-2M",
    "200-1000万": "2M-10M", "200-1000万元": "2M-10M", "1000万以上": "over 10M",
    "1000万元以上": "over 10M",
}
#: public: all of it; nda: the summary to everyone, the details to parties under NDA;
#: invitation: only those invited (restricted)
VISIBILITIES = ("public", "nda", "invitation")
_VISIBILITY_ALIASES = {"公开": "public", "保密": "nda", "摘要公开": "nda",
                       "under nda": "nda", "定向": "invitation", "邀请": "invitation",
                       "by invitation": "invitation", "invitation only": "invitation"}
#: review before publication
MARKET_STATES = ("draft", "submitted", "published", "returned", "expired", "withdrawn")
_STATE_ALIASES = {"草稿": "draft", "已提交": "submitted", "待审核": "submitted",
                  "已发布": "published", "退回": "returned", "已退回": "returned",
                  "已过期": "expired", "已撤回": "withdrawn"}
ORGANISATION_TYPES = ("institute", "university", "enterprise", "hospital", "government",
                      "platform", "park", "service agency", "investor", "alliance")
_ORG_ALIASES = {
    "科研院所": "institute", "研究所": "institute", "研究院": "institute",
    "research institute": "institute", "高校": "university", "大学": "university",
    "高等院校": "university", "企业": "enterprise", "公司": "enterprise",
    "company": "enterprise", "医院": "hospital", "政府": "government",
    "政府部门": "government", "平台": "platform", "公共服务平台": "platform",
    "园区": "park", "产业园": "park", "中介机构": "service agency",
    "技术转移机构": "service agency", "broker": "service agency", "投资机构": "investor",
    "基金": "investor", "investment": "investor", "联盟": "alliance", "产业联盟": "alliance",
    "创新联盟": "alliance", "产业技术创新战略联盟": "alliance", "industry alliance": "alliance",
}

# --- codes ---------------------------------------------------------------------------------

#: GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB/T 2260 provinces (the first two digits of a district code)
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省",
    "45": "广西壮族自治区", "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省",
    "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省",
    "64": "宁夏回族自治区", "65": "新疆维吾尔自治区", "71": "台湾省",
    "81": "香港特别行政区", "82": "澳门特别行政区",
}
#: the city's own districts (GB/T 2260), also accepted by name
QINGDAO_DISTRICTS = {
    "370200": "青岛市", "370202": "市南区", "370203": "市北区", "370211": "黄岛区",
    "370212": "崂山区", "370213": "李沧区", "370214": "城阳区", "370215": "即墨区",
    "370281": "胶州市", "370283": "平度市", "370285": "莱西市",
}
_DISTRICT_NAMES = {name: code for code, name in QINGDAO_DISTRICTS.items()}


def uscc_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of a code's first 17 characters."""
    total = sum(USCC_ALPHABET.index(char) * weight
                for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def credit_code(value: Any, ctx: ValueContext, name: str) -> str:
    """An 18-character unified social credit code whose check character is right."""
    raw = re.sub(r"[\s\-]", "", vocab.text(value, ctx, name)).upper()
    if len(raw) != 18:
        raise FieldError(f"has {len(raw)} characters, not the 18 of a unified social credit "
                         "code", "copy the code from the business licence (e.g. "
                         "91370200163562681G)")
    wrong = sorted({char for char in raw if char not in USCC_ALPHABET})
    if wrong:
        raise FieldError(f"contains {', '.join(wrong)}, which no unified social credit code "
                         "has", "the code uses digits and capital letters except I, O, S, V "
                         "and Z; check for O written for 0")
    expected = uscc_check_character(raw[:17])
    if raw[17] != expected:
        raise FieldError(f"has the check character {raw[17]}, but its first 17 characters "
                         f"give {expected}", "a character was mistyped: copy the code again "
                         "from the business licence")
    if raw[2:4] not in PROVINCES:
        raise FieldError(f"names the district {raw[2:8]}, which is in no province",
                         "characters 3-8 are the GB/T 2260 district code: check them")
    return raw


def district_code(value: Any, ctx: ValueContext, name: str) -> str:
    """A six-digit GB/T 2260 district code in a known province (or a district of the city
    named in Chinese: 崂山区)."""
    raw = vocab.text(value, ctx, name)
    if raw in _DISTRICT_NAMES:
        return _DISTRICT_NAMES[raw]
    code = raw.replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        raise FieldError("is not a six-digit GB/T 2260 district code",
                         "write the code, e.g. 370212 (Laoshan District)")
    if code[:2] not in PROVINCES:
        raise FieldError(f"starts with {code[:2]}, which is no province's code",
                         "the first two digits name the province (37 is Shandong)")
    return code


def district_name(code: str) -> str:
    """The Chinese name of a district code as far as Lanhai knows it (province at least)."""
    if code in QINGDAO_DISTRICTS:
        city = "" if code.endswith("00") else "青岛市"
        return f"{PROVINCES[code[:2]]}{city}{QINGDAO_DISTRICTS[code]}"
    return PROVINCES.get(code[:2], "")


def cn_application_check_digit(digits: str) -> str:
    """The check digit of a Chinese patent application number (8 or 12 digits): weights
    2-9 repeating from the left, the sum modulo 11, 10 written X."""
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(digits))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


_CN_APPLICATION = re.compile(r"^(?:CN|ZL)?(\d{8}|\d{12})\.?([\dX])$")
_CN_PUBLICATION = re.compile(r"^CN(\d{7,9})([ABCUSY]\d?)?$")
_OTHER_PATENT = re.compile(r"^(US|EP|WO|JP|KR|DE|GB|FR|AU|CA|RU|IN|BR)[\d/]{5,14}"
                           r"([A-Z]\d?)?$")


def patent_number(raw: str) -> str:
    """A patent or application number in a normal form, or FieldError: Chinese application
    numbers (ZL202010123456.7, CN201810012345X) have their check digit verified."""
    key = re.sub(r"[\s,]", "", raw).upper().replace("ZL", "ZL", 1)
    match = _CN_APPLICATION.match(key)
    if match:
        digits, check = match[1], match[2]
        kind = digits[4] if len(digits) == 12 else digits[2]
        if kind not in "12389":
            raise FieldError(f"{raw} has the type digit {kind}; a Chinese application number's "
                             "type is 1, 2, 3, 8 or 9", "check the number")
        expected = cn_application_check_digit(digits)
        if check != expected:
            raise FieldError(f"{raw} has the check digit {check}, but its digits give "
                             f"{expected}", "a digit was mistyped: copy the number again")
        return f"CN{digits}.{check}"
    if _CN_PUBLICATION.match(key) or _OTHER_PATENT.match(key):
        return key
    raise FieldError(f"{raw} is not a patent or application number",
                     "write it as ZL202010123456.7, CN112345678B, US10123456B2 or "
                     "WO2019/123456")


def patents(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Patent and application numbers, ';'-separated."""
    return unique(patent_number(item) for item in vocab.text_list(value, ctx, name))


def trl(value: Any, ctx: ValueContext, name: str) -> int:
    """A technology readiness level 1-9 (GB/T 22900): '6', 'TRL 6', '6级'."""
    raw = vocab.text(value, ctx, name)
    match = re.fullmatch(r"(?:TRL\s*)?(\d+)\s*(?:级)?", raw, re.I)
    if match is None:
        raise FieldError("is not a technology readiness level",
                         "write a level from 1 to 9 (TRL 6 is a prototype shown in its "
                         "intended environment)")
    level = int(match[1])
    if not 1 <= level <= 9:
        raise FieldError(f"is level {level}; readiness levels run from 1 to 9",
                         "write a level from 1 to 9")
    return level


def _choices(options: tuple[str, ...], aliases: dict[str, str]) -> vocab.Normaliser:
    one = vocab.choice(options, aliases)
    return vocab.offer(lambda v, c, n: unique(one(x, c, n) for x in vocab.text_list(v, c, n)),
                       options, multiple=True)


def _text_fields(noun: str) -> tuple[Field, ...]:
    """The bilingual texts of an offer or demand."""
    zh = "成果" if noun == "offer" else "需求"
    return (
        Field("title", group="Text", aliases=("english title", "title en", "name", "name en"),
              description=f"The {noun}'s title in English (this or title_zh is needed).",
              example="Alginate lyase PL7 for alginate oligosaccharides"),
        Field("title_zh", group="Text",
              aliases=("chinese title", f"{zh}名称", "名称", "标题", "中文标题", "项目名称"),
              description=f"The {noun}'s title in Chinese.", example="褐藻胶裂解酶及其寡糖制备"),
        Field("summary", group="Text", aliases=("abstract", "english summary", "summary en"),
              description="What it is and what it does, in English (shown to everyone who "
                          "may see it)."),
        Field("summary_zh", group="Text",
              aliases=(f"{zh}简介", "简介", "摘要", "中文简介", "内容简介", "需求描述",
                       "成果描述"),
              description="What it is and what it does, in Chinese."),
        Field("keywords", vocab.text_list, group="Text", aliases=("关键词", "key words", "tags"),
              description="Keywords in either language (';'-separated).",
              example="alginate; 褐藻胶寡糖"),
    )


def accession_of(prefix: str, reason: str, fix: str) -> vocab.Normaliser:
    """A normaliser taking the accession of a record of one kind (its prefix)."""
    pattern = re.compile(prefix + r"[0-9A-Z]{7}")

    def normalise(value: Any, ctx: ValueContext, name: str) -> str:
        raw = vocab.text(value, ctx, name).upper()
        if not pattern.fullmatch(raw):
            raise FieldError(reason, fix)
        return raw

    return normalise


#: the accession of an organisation record (LHOG…)
organisation_accession = accession_of(
    "LHOG", "is not an organisation's accession",
    "give the accession of an organisation record, e.g. LHOG0000001")


_OWNER = Field("organisation", organisation_accession, group="Market",
               aliases=("organisation accession", "owner", "机构", "单位", "所属机构"),
               description="The organisation record (LHOG…) that offers or seeks it; a "
                           "member's entries are its organisation's.",
               example="LHOG0000001")

_STATUS_FIELDS = (
    Field("visibility", vocab.choice(VISIBILITIES, _VISIBILITY_ALIASES), group="Market",
          aliases=("公开方式", "可见性"),
          description="public; nda (the summary to everyone, the details under NDA); "
                      "invitation (only those invited). Default public.", example="nda"),
    Field("market_status", vocab.choice(MARKET_STATES, _STATE_ALIASES), group="Market",
          aliases=("status", "review status", "状态", "审核状态"),
          description="draft → submitted → published (or returned) → expired or withdrawn. "
                      "Only published entries are shown to readers. Default draft.",
          example="published"),
    Field("expires", vocab.full_date, group="Market",
          aliases=("expiry", "expiry date", "valid until", "有效期", "有效期至", "截止日期"),
          description="Last day the entry is listed; renew by moving the date.",
          example="2027-12-31"),
)


def _field_of_work(required: bool) -> Field:
    return Field("field", vocab.choice(FIELDS_OF_WORK, _FIELD_ALIASES), required=required,
                 missing_ok=False, group="Market", aliases=("技术领域", "领域", "类别", "type"),
                 description="What it is about: " + ", ".join(FIELDS_OF_WORK) + ".",
                 example="enzyme")


def _sector(required: bool) -> Field:
    return Field("sector", vocab.choice(SECTORS, _SECTOR_ALIASES), required=required,
                 missing_ok=False, group="Market", aliases=("行业", "产业", "应用领域", "industry"),
                 description="Industry sector: " + ", ".join(SECTORS) + ".",
                 example="food_health")


def _reference(zh: str) -> Field:
    return Field("reference", required=True, missing_ok=False, group="Market",
                 aliases=("ref", "your reference", "submitter reference", "external id",
                          f"{zh}编号", "编号", "序号"),
                 description="The submitter's own reference: importing the same table again "
                             "changes the same entries.", example="OUC-2024-017")


OFFER_FIELDS = (
    _reference("成果"),
    *_text_fields("offer"),
    Field("details", group="Text", aliases=("technical details", "详细说明"),
          description="Technical details in English; under NDA when visibility is nda."),
    Field("details_zh", group="Text", aliases=("技术详情", "技术细节", "详细内容"),
          description="Technical details in Chinese; under NDA when visibility is nda."),
    _field_of_work(True),
    _sector(True),
    Field("trl", trl, required=True, missing_ok=False, group="Market",
          aliases=("technology readiness level", "readiness", "技术成熟度", "成熟度"),
          description="Technology readiness level 1-9 (GB/T 22900).", example="6"),
    Field("transfer_types", _choices(TRANSFER_TYPES, _TRANSFER_ALIASES), required=True,
          missing_ok=False, group="Market",
          aliases=("transfer type", "transfer", "合作方式", "转化方式", "交易方式"),
          description="How it may change hands: " + ", ".join(TRANSFER_TYPES) + ".",
          example="licence; co-development"),
    Field("patents", patents, group="Market",
          aliases=("patent", "patent numbers", "专利", "专利号", "知识产权"),
          description="Patents and applications (Chinese application numbers are checked).",
          example="ZL201510123456.1"),
    Field("price_band", vocab.choice(PRICE_BANDS, _PRICE_ALIASES), group="Market",
          aliases=("price", "asking price", "价格", "转让价格", "价格区间"),
          description="Asking price (CNY): " + ", ".join(PRICE_BANDS) + ".",
          example="negotiable"),
    _OWNER,
    *_STATUS_FIELDS,
    *COMMON_FIELDS,
)

DEMAND_FIELDS = (
    _reference("需求"),
    *_text_fields("demand"),
    _field_of_work(False),
    _sector(False),
    Field("min_trl", trl, group="Market",
          aliases=("minimum trl", "required trl", "最低成熟度", "成熟度要求"),
          description="The least readiness level that would do (1-9).", example="5"),
    Field("transfer_types", _choices(TRANSFER_TYPES, _TRANSFER_ALIASES), group="Market",
          aliases=("transfer type", "transfer", "合作方式", "期望合作方式"),
          description="How the buyer would take it: " + ", ".join(TRANSFER_TYPES) + ".",
          example="licence"),
    Field("budget_band", vocab.choice(PRICE_BANDS, _PRICE_ALIASES), group="Market",
          aliases=("budget", "预算", "预算区间", "拟投入资金"),
          description="Budget (CNY): " + ", ".join(PRICE_BANDS) + ".", example="500k-2M"),
    _OWNER,
    *_STATUS_FIELDS,
    *COMMON_FIELDS,
)


def _one_title(fields: Fields) -> list[Problem]:
    return require_one_of("title", "title_zh")(fields)


def listed(fields: Fields, today: dt.date | None = None) -> bool:
    """Whether an offer or demand is on the market now: published and not past its date."""
    if fields.get("market_status") != "published":
        return False
    expires = fields.get("expires")
    return not expires or expires >= (today or dt.date.today()).isoformat()


def _market_derive(fields: Fields) -> list[Problem]:
    fields.setdefault("market_status", "draft")
    fields.setdefault("visibility", "public")
    # status and visibility decide: readers see published entries only, and never those
    # shown by invitation
    fields["restricted"] = fields["market_status"] != "published" or \
        fields["visibility"] == "invitation"
    return []


def _market_identifiers(kind: str) -> Any:
    def identifiers(fields: Fields) -> list[str]:
        ref = str(fields.get("reference", "")).strip()
        return unique([f"{kind}:{ref}" if ref else "", *fields.get("identifiers", [])])
    return identifiers


def _organisation_name(fields: Fields) -> str:
    return str(fields.get("name_zh") or fields.get("name_en") or "")


def _organisation_identifiers(fields: Fields) -> list[str]:
    code = fields.get("credit_code")
    own = f"uscc:{code}" if code else f"organisation:{_organisation_name(fields)}"
    return unique([own, *fields.get("identifiers", [])])


def _organisation_derive(fields: Fields) -> list[Problem]:
    code, district = fields.get("credit_code"), fields.get("district")
    if code and not district:
        fields["district"] = code[2:8]
    fields["name"] = _organisation_name(fields)
    return []


#: enterprise qualifications (资质), each held with the year it was granted
QUALIFICATIONS = ("gazelle", "little_giant", "specialised", "high_tech", "tech_leading",
                  "unicorn")
_QUALIFICATION_ALIASES = {
    "瞪羚": "gazelle", "瞪羚企业": "gazelle", "gazelle enterprise": "gazelle",
    "专精特新小巨人": "little_giant", "专精特新小巨人企业": "little_giant",
    "小巨人": "little_giant", "小巨人企业": "little_giant",
    "国家级专精特新小巨人企业": "little_giant", "little giant": "little_giant",
    "专精特新中小企业": "specialised", "专精特新企业": "specialised", "专精特新": "specialised",
    "specialized": "specialised", "高新技术企业": "high_tech", "国家高新技术企业": "high_tech",
    "高企": "high_tech", "high tech enterprise": "high_tech", "hnte": "high_tech",
    "科技领军企业": "tech_leading", "tech leading enterprise": "tech_leading",
    "独角兽": "unicorn", "独角兽企业": "unicorn",
}
_QUALIFICATION = vocab.choice(QUALIFICATIONS, _QUALIFICATION_ALIASES)
_QUALIFIED = "gazelle 2024; 专精特新小巨人 2023"
_QUALIFICATION_ITEM = re.compile(r"^(?:(\d{4})年?)?(.*?)(?:\(?(\d{4})年?\)?)?$")


def qualifications(value: Any, ctx: ValueContext, name: str) -> list[str]:
    """Qualifications with the year each was granted, ';'-separated: 'gazelle 2024;
    专精特新"小巨人" 2023; 2022年高新技术企业'. Each is stored as "<qualification> <year>"
    (little_giant 2023), so that ``qualifications~little_giant`` finds its holders."""
    raw = unicodedata.normalize("NFKC", vocab.text(value, ctx, name))
    out = []
    for item in re.split(r"[;|,、\n]", re.sub(r"[\"'“”‘’「」《》]", "", raw)):
        item = item.strip()
        if not item:
            continue
        match = _QUALIFICATION_ITEM.match(item)
        assert match is not None  # every text matches
        year_text = match[1] or match[3]
        if year_text is None or (match[1] and match[3]):
            raise FieldError(f"gives {item!r} without the one year it was granted",
                             f"write each qualification with its year: {_QUALIFIED}")
        year = int(year_text)
        if not 1990 <= year <= dt.date.today().year:
            when = "before 1990" if year < 1990 else "in the future"
            raise FieldError(f"gives {item!r} the year {year}, {when}",
                             "write the year the qualification was granted")
        try:
            kind = _QUALIFICATION(match[2].strip(" -_:"), ctx, name)
        except FieldError:
            raise FieldError(f"names {match[2].strip()!r}, which is no qualification Lanhai "
                             "knows", "use one of: " + ", ".join(QUALIFICATIONS)) from None
        out.append(f"{kind} {year}")
    return unique(out)


ORGANISATION_FIELDS = (
    Field("name_zh", group="Organisation",
          aliases=("chinese name", "中文名称", "机构名称", "单位名称", "企业名称", "名称"),
          description="Registered name in Chinese (this or name_en is needed).",
          example="中国海洋大学"),
    Field("name_en", group="Organisation",
          aliases=("english name", "organisation", "organization", "institution"),
          description="Name in English.", example="Ocean University of China"),
    Field("org_type", vocab.choice(ORGANISATION_TYPES, _ORG_ALIASES), required=True,
          missing_ok=False, group="Organisation",
          aliases=("type", "organisation type", "organization type", "机构类型", "单位类型"),
          description="What it is: " + ", ".join(ORGANISATION_TYPES) + ".",
          example="university"),
    Field("credit_code", credit_code, group="Organisation",
          aliases=("uscc", "unified social credit code", "统一社会信用代码", "信用代码"),
          description="Unified social credit code (GB 32100-2015); its check character is "
                      "verified.", example="91370200163562681G"),
    Field("district", district_code, group="Organisation",
          aliases=("district code", "area code", "行政区划代码", "所在区", "区县"),
          description="GB/T 2260 district code (taken from the credit code when not given).",
          example="370212"),
    _sector(False),
    Field("qualifications", qualifications, group="Organisation",
          aliases=("qualification", "enterprise qualifications", "企业资质", "资质",
                   "资质荣誉", "企业荣誉", "认定资质"),
          description="Qualifications with the year granted (';'-separated): "
                      + ", ".join(QUALIFICATIONS) + ".",
          example="gazelle 2024; 专精特新小巨人 2023; 高新技术企业 2022"),
    Field("address", group="Organisation", aliases=("地址", "通讯地址")),
    Field("website", group="Organisation", aliases=("url", "网址", "网站")),
    *COMMON_FIELDS,
)

ORGANISATION_SPEC = KindSpec(
    name="organisation", prefix="LHOG", title="Organisation", standard=ORGANISATION,
    fields=ORGANISATION_FIELDS, name_field="name", identifiers=_organisation_identifiers,
    derive=_organisation_derive, checks=(require_one_of("name_zh", "name_en"),),
    computed=("name",),
)
OFFER_SPEC = KindSpec(
    name="offer", prefix="LHOF", title="Technology offer", standard=MARKET,
    fields=OFFER_FIELDS, name_field="title", identifiers=_market_identifiers("offer"),
    derive=_market_derive, checks=(_one_title,),
)
DEMAND_SPEC = KindSpec(
    name="demand", prefix="LHDM", title="Technology demand", standard=MARKET,
    fields=DEMAND_FIELDS, name_field="title", identifiers=_market_identifiers("demand"),
    derive=_market_derive, checks=(_one_title,),
)


# --- incubation ------------------------------------------------------------------------------

INCUBATION_STAGES = ("proof of concept", "pilot", "scale-up")
_INCUBATION_ALIASES = {"概念验证": "proof of concept", "poc": "proof of concept",
                       "中试": "pilot", "pilot scale": "pilot", "放大": "scale-up",
                       "产业化": "scale-up", "scale up": "scale-up", "scaleup": "scale-up"}
INCUBATION_STATES = ("active", "completed", "stopped")
_INCUBATION_STATE_ALIASES = {"进行中": "active", "已完成": "completed", "已终止": "stopped"}


#: the accession of an offer record (LHOF…)
offer_accession = accession_of(
    "LHOF", "is not an offer's accession",
    "give the accession of an offer record, e.g. LHOF0000001")


def milestones(value: Any, ctx: ValueContext, name: str) -> list[dict[str, str]]:
    """A JSON list of milestones: [{"name": "…", "due": "YYYY-MM-DD", "done": "…"}]."""
    items = value
    if isinstance(value, str):
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            raise FieldError("is not a JSON list of milestones",
                             'write [{"name": "pilot batch", "due": "2027-06-30"}]') from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FieldError("is not a list of milestones",
                         'each milestone is {"name": "…", "due": "YYYY-MM-DD"}')
    out = []
    for item in items:
        if vocab.is_blank(item.get("name")) or vocab.is_blank(item.get("due")):
            raise FieldError("has a milestone without its name or due date",
                             'each milestone is {"name": "…", "due": "YYYY-MM-DD"}')
        clean = {"name": vocab.text(item["name"], ctx, name),
                 "due": vocab.full_date(item["due"], ctx, name)}
        if not vocab.is_blank(item.get("done")):
            clean["done"] = vocab.full_date(item["done"], ctx, name)
        out.append(clean)
    return sorted(out, key=lambda m: m["due"])


INCUBATION_FIELDS = (
    Field("project_name", required=True, missing_ok=False, group="Incubation",
          aliases=("project", "name", "项目名称", "孵化项目"),
          description="The incubation project's name.", example="AlyZ7 pilot production"),
    Field("offer", offer_accession, required=True, missing_ok=False, group="Incubation",
          aliases=("offer accession", "成果", "成果编号"),
          description="The offer (LHOF…) it takes forward.", example="LHOF0000001"),
    Field("stage", vocab.choice(INCUBATION_STAGES, _INCUBATION_ALIASES), required=True,
          missing_ok=False, group="Incubation", aliases=("阶段", "孵化阶段"),
          description="proof of concept, pilot or scale-up.", example="pilot"),
    Field("host", organisation_accession, required=True, missing_ok=False,
          group="Incubation", aliases=("platform", "park", "host organisation", "承载平台",
                                       "孵化平台", "园区"),
          description="The platform or park (an organisation record, LHOG…) that hosts it.",
          example="LHOG0000002"),
    Field("started", vocab.full_date, group="Incubation", aliases=("start date", "开始日期"),
          description="The day it began.", example="2026-09-01"),
    Field("milestones", milestones, group="Incubation", aliases=("里程碑",),
          description='Milestones: [{"name": "…", "due": "YYYY-MM-DD", "done": "…"}].'),
    Field("project_status", vocab.choice(INCUBATION_STATES, _INCUBATION_STATE_ALIASES),
          group="Incubation", aliases=("status", "状态"),
          description="active, completed or stopped. Default active.", example="active"),
    *COMMON_FIELDS,
)


def _incubation_derive(fields: Fields) -> list[Problem]:
    fields.setdefault("project_status", "active")
    started = fields.get("started")
    return [Problem(reason=f"has a milestone done on {m['done']}, before the project "
                           f"started ({started})", fix="check the dates", field="milestones",
                    value=m["name"])
            for m in fields.get("milestones", []) if started and m.get("done", started) <
            started]


INCUBATION_SPEC = KindSpec(
    name="incubation", prefix="LHIC", title="Incubation project", standard=MARKET,
    fields=INCUBATION_FIELDS, name_field="project_name",
    identifiers=lambda f: unique([f"incubation:{f.get('offer')}:{f.get('project_name')}",
                                  *f.get("identifiers", [])]),
    derive=_incubation_derive,
)
