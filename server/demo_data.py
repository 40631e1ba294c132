"""Deterministic demo data for a field-service company in Shanghai.

Pure Python with no app, database or third-party import: ``flask seed-demo`` turns these frozen
dataclasses of primitives into rows. Every generator takes a seed (or a ``random.Random``) and a
``today`` date, so the same arguments always give the same data.

Conventions the seeding code can rely on:

- ``DemoSite.district`` is always the Chinese district name (``"徐汇区"``), whatever the
  customer's language; ``district_by_name`` gives its English name and bounding box.
- ``DemoSite.city`` and ``DemoSite.address`` are in the customer's language.
- Locales are ``"zh_CN"`` or ``"en"``; any locale starting with ``zh`` reads as Chinese.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, NamedTuple, TypeVar

_V = TypeVar("_V")

#: The date the demo is staged around when the caller gives none.
DEFAULT_TODAY: Final = date(2026, 11, 23)

#: Work order category codes that have demo texts, resolutions and parts.
CATEGORY_CODES: Final[tuple[str, ...]] = (
    "HVAC-REPAIR",
    "ELEC-REPAIR",
    "PLUMB-REPAIR",
    "APPL-REPAIR",
    "INSTALL",
    "PM",
    "COMPLAINT",
    "EMERGENCY",
)

#: Skill codes technicians are rated on (level 1-5).
SKILL_CODES: Final[tuple[str, ...]] = (
    "hvac",
    "electrical",
    "plumbing",
    "appliance",
    "elevator",
    "refrigeration",
)

#: Technician teams; a technician's region is the same code as the team.
TEAMS: Final[tuple[str, ...]] = ("puxi", "pudong", "north")

#: Human names of the teams, Chinese and English.
TEAM_NAMES: Final[dict[str, str]] = {
    "puxi": "浦西 Puxi",
    "pudong": "浦东 Pudong",
    "north": "北区 North",
}

#: Customer service tiers.
TIERS: Final[tuple[str, ...]] = ("vip", "key", "standard")

#: Locales customers and technicians may prefer.
LOCALES: Final[tuple[str, ...]] = ("zh_CN", "en")

#: Kinds of equipment installed at sites.
ASSET_KINDS: Final[tuple[str, ...]] = (
    "hvac",
    "water_heater",
    "electrical_panel",
    "pump",
    "elevator",
    "refrigeration",
)

#: Codes ``demo_resolution`` may return.
RESOLUTION_CODES: Final[tuple[str, ...]] = (
    "replaced_part",
    "adjusted",
    "cleaned",
    "no_fault_found",
    "temporary_fix",
    "installed",
    "inspected",
    "goodwill_credit",
)

#: Rough latitude/longitude box of the whole city: (lat_min, lat_max, lon_min, lon_max).
SHANGHAI_BOUNDS: Final = (31.10, 31.35, 121.30, 121.65)


@dataclass(frozen=True)
class DemoDistrict:
    """Describe one Shanghai district: names, bounding box and real street names."""

    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    #: (Chinese, English) street names that really run through the district.
    streets: tuple[tuple[str, str], ...]

    def contains(self, latitude: float, longitude: float) -> bool:
        """Tell whether a point lies inside this district's box."""
        return (
            self.lat_min <= latitude <= self.lat_max and self.lon_min <= longitude <= self.lon_max
        )


# fmt: off
#: The districts demo sites and technician homes are spread over.
DISTRICTS: Final[tuple[DemoDistrict, ...]] = (
    DemoDistrict(
        "黄浦区", "Huangpu District", "黄浦", "Huangpu", 31.210, 31.240, 121.470, 121.500,
        (
            ("南京东路", "East Nanjing Rd"),
            ("淮海中路", "Middle Huaihai Rd"),
            ("西藏中路", "Middle Xizang Rd"),
            ("河南南路", "South Henan Rd"),
            ("复兴中路", "Middle Fuxing Rd"),
            ("中山南路", "South Zhongshan Rd"),
            ("瑞金二路", "Ruijin No. 2 Rd"),
        ),
    ),
    DemoDistrict(
        "徐汇区", "Xuhui District", "徐汇", "Xuhui", 31.150, 31.205, 121.420, 121.460,
        (
            ("漕溪北路", "Caoxi North Rd"),
            ("肇嘉浜路", "Zhaojiabang Rd"),
            ("天钥桥路", "Tianyaoqiao Rd"),
            ("衡山路", "Hengshan Rd"),
            ("宜山路", "Yishan Rd"),
            ("龙华中路", "Middle Longhua Rd"),
            ("虹桥路", "Hongqiao Rd"),
        ),
    ),
    DemoDistrict(
        "长宁区", "Changning District", "长宁", "Changning", 31.195, 31.225, 121.360, 121.420,
        (
            ("延安西路", "West Yan'an Rd"),
            ("天山路", "Tianshan Rd"),
            ("仙霞路", "Xianxia Rd"),
            ("愚园路", "Yuyuan Rd"),
            ("定西路", "Dingxi Rd"),
            ("古北路", "Gubei Rd"),
            ("长宁路", "Changning Rd"),
        ),
    ),
    DemoDistrict(
        "静安区", "Jing'an District", "静安", "Jing'an", 31.225, 31.285, 121.440, 121.470,
        (
            ("南京西路", "West Nanjing Rd"),
            ("常德路", "Changde Rd"),
            ("延平路", "Yanping Rd"),
            ("江宁路", "Jiangning Rd"),
            ("北京西路", "West Beijing Rd"),
            ("大宁路", "Daning Rd"),
            ("共和新路", "Gonghexin Rd"),
        ),
    ),
    DemoDistrict(
        "普陀区", "Putuo District", "普陀", "Putuo", 31.230, 31.270, 121.380, 121.430,
        (
            ("长寿路", "Changshou Rd"),
            ("曹杨路", "Caoyang Rd"),
            ("真北路", "Zhenbei Rd"),
            ("武宁路", "Wuning Rd"),
            ("中山北路", "North Zhongshan Rd"),
            ("金沙江路", "Jinshajiang Rd"),
        ),
    ),
    DemoDistrict(
        "虹口区", "Hongkou District", "虹口", "Hongkou", 31.250, 31.290, 121.475, 121.505,
        (
            ("四川北路", "North Sichuan Rd"),
            ("东大名路", "East Daming Rd"),
            ("曲阳路", "Quyang Rd"),
            ("临平路", "Linping Rd"),
            ("西江湾路", "West Jiangwan Rd"),
            ("海宁路", "Haining Rd"),
        ),
    ),
    DemoDistrict(
        "杨浦区", "Yangpu District", "杨浦", "Yangpu", 31.260, 31.310, 121.505, 121.545,
        (
            ("四平路", "Siping Rd"),
            ("国权路", "Guoquan Rd"),
            ("黄兴路", "Huangxing Rd"),
            ("控江路", "Kongjiang Rd"),
            ("政通路", "Zhengtong Rd"),
            ("长阳路", "Changyang Rd"),
            ("军工路", "Jungong Rd"),
        ),
    ),
    DemoDistrict(
        "浦东新区", "Pudong New Area", "浦东", "Pudong", 31.180, 31.250, 121.510, 121.620,
        (
            ("世纪大道", "Century Ave"),
            ("张杨路", "Zhangyang Rd"),
            ("陆家嘴环路", "Lujiazui Ring Rd"),
            ("浦东南路", "South Pudong Rd"),
            ("东方路", "Dongfang Rd"),
            ("花木路", "Huamu Rd"),
            ("锦绣路", "Jinxiu Rd"),
            ("碧波路", "Bibo Rd"),
        ),
    ),
    DemoDistrict(
        "闵行区", "Minhang District", "闵行", "Minhang", 31.100, 31.160, 121.340, 121.420,
        (
            ("七莘路", "Qixin Rd"),
            ("虹井路", "Hongjing Rd"),
            ("都市路", "Dushi Rd"),
            ("沪闵路", "Humin Rd"),
            ("古美路", "Gumei Rd"),
            ("吴中路", "Wuzhong Rd"),
            ("万源路", "Wanyuan Rd"),
        ),
    ),
    DemoDistrict(
        "宝山区", "Baoshan District", "宝山", "Baoshan", 31.300, 31.350, 121.420, 121.490,
        (
            ("牡丹江路", "Mudanjiang Rd"),
            ("友谊路", "Youyi Rd"),
            ("淞宝路", "Songbao Rd"),
            ("长江西路", "West Changjiang Rd"),
            ("殷高西路", "West Yingao Rd"),
            ("水产路", "Shuichan Rd"),
            ("同济路", "Tongji Rd"),
        ),
    ),
)

# fmt: on
#: Districts each team's technicians tend to live in.
_TEAM_HOME_DISTRICTS: Final[dict[str, tuple[str, ...]]] = {
    "puxi": ("黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "闵行区"),
    "pudong": ("浦东新区", "浦东新区", "浦东新区", "杨浦区"),
    "north": ("虹口区", "杨浦区", "宝山区", "静安区", "普陀区"),
}


@dataclass(frozen=True)
class DemoContact:
    """Hold one person to call or e-mail about a customer's jobs."""

    name: str
    phone: str
    email: str | None
    is_primary: bool


@dataclass(frozen=True)
class DemoAsset:
    """Hold one piece of equipment installed at a site."""

    model: str
    manufacturer: str
    kind: str
    serial_number: str
    installed_on: date
    warranty_ends_on: date


@dataclass(frozen=True)
class DemoSite:
    """Hold one address where work is done, with the equipment there."""

    label: str
    address: str
    district: str
    city: str
    latitude: float
    longitude: float
    access_notes: str
    assets: tuple[DemoAsset, ...]


@dataclass(frozen=True)
class DemoCustomer:
    """Hold one household or company with its contacts and sites."""

    name: str
    tier: str
    preferred_locale: str
    is_company: bool
    notes: str
    contacts: tuple[DemoContact, ...]
    sites: tuple[DemoSite, ...]


@dataclass(frozen=True)
class DemoTechnician:
    """Hold one field technician's account and dispatch profile."""

    username: str
    display_name: str
    email: str
    phone: str
    locale: str
    team: str
    region: str
    skills: tuple[tuple[str, int], ...]
    certifications: tuple[tuple[str, date], ...]
    home_latitude: float
    home_longitude: float
    home_address: str
    working_hours: tuple[tuple[int, str, str], ...]
    is_on_call: bool
    max_jobs_per_day: int


@dataclass(frozen=True)
class DemoOrderText:
    """Hold a work order's title and description in the customer's language."""

    title: str
    description: str


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

# fmt: off
_SURNAMES: Final = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("林", "Lin"), ("高", "Gao"), ("罗", "Luo"),
    ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"),
    ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"), ("彭", "Peng"),
    ("沈", "Shen"), ("陆", "Lu"), ("顾", "Gu"), ("蒋", "Jiang"), ("钱", "Qian"),
    ("施", "Shi"), ("俞", "Yu"), ("金", "Jin"),
)

_GIVEN_NAMES: Final = (
    ("建国", "Jianguo"), ("秀英", "Xiuying"), ("伟", "Wei"), ("芳", "Fang"), ("敏", "Min"),
    ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"),
    ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"),
    ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀兰", "Xiulan"), ("霞", "Xia"),
    ("平", "Ping"), ("刚", "Gang"), ("桂英", "Guiying"), ("志强", "Zhiqiang"),
    ("海燕", "Haiyan"), ("晓东", "Xiaodong"), ("雪梅", "Xuemei"), ("文杰", "Wenjie"),
    ("佳怡", "Jiayi"), ("子涵", "Zihan"), ("浩然", "Haoran"), ("欣怡", "Xinyi"),
    ("宇轩", "Yuxuan"), ("思雨", "Siyu"), ("俊杰", "Junjie"), ("美玲", "Meiling"),
    ("国华", "Guohua"), ("建华", "Jianhua"), ("玉兰", "Yulan"), ("卫东", "Weidong"),
    ("丽娟", "Lijuan"), ("晨", "Chen"), ("婷", "Ting"), ("鹏", "Peng"), ("慧", "Hui"),
    ("立新", "Lixin"), ("春燕", "Chunyan"), ("德明", "Deming"),
)

_EN_FIRST_NAMES: Final = (
    "Emily", "James", "Olivia", "Daniel", "Sophie", "Michael", "Hannah", "Thomas",
    "Charlotte", "Lucas", "Grace", "Benjamin", "Chloe", "Matthew", "Isabella", "David",
    "Laura", "Patrick", "Anna", "Oliver", "Sarah", "Henrik", "Marco", "Julia", "Kevin",
    "Rachel", "Peter", "Amelia",
)

_EN_LAST_NAMES: Final = (
    "Carter", "Smith", "Johnson", "Brown", "Wilson", "Taylor", "Anderson", "Martin",
    "Thompson", "Walker", "Wright", "Evans", "Roberts", "Schmidt", "Dubois", "Rossi",
    "Nakamura", "Kim", "O'Brien", "Fischer", "Larsen", "Moreau", "Novak", "Hughes",
)

#: English given names Shanghai office staff often use with their own surname ("Kevin Zhang").
_EN_STAFF_NAMES: Final = (
    "Kevin", "Cindy", "Jason", "Vivian", "Eric", "Cathy", "Leo", "Amy", "Jack", "Lily",
    "Tony", "Sherry", "Frank", "Grace", "Alex", "Iris",
)


# fmt: on
class _Person(NamedTuple):
    """A display name with its romanised parts for e-mail addresses."""

    name: str
    given: str
    family: str


def _ascii_slug(text: str) -> str:
    """Lower-case a romanised name and keep only a-z."""
    return "".join(ch for ch in text.lower() if "a" <= ch <= "z")


def _chinese_person(rng: random.Random) -> _Person:
    """Draw a Chinese name such as 王建国."""
    surname, surname_py = rng.choice(_SURNAMES)
    given, given_py = rng.choice(_GIVEN_NAMES)
    return _Person(surname + given, _ascii_slug(given_py), _ascii_slug(surname_py))


def _english_person(rng: random.Random) -> _Person:
    """Draw an English name such as Emily Carter."""
    first, last = rng.choice(_EN_FIRST_NAMES), rng.choice(_EN_LAST_NAMES)
    return _Person(f"{first} {last}", _ascii_slug(first), _ascii_slug(last))


def _staff_person(rng: random.Random) -> _Person:
    """Draw an office name such as Kevin Zhang."""
    first = rng.choice(_EN_STAFF_NAMES)
    _, surname_py = rng.choice(_SURNAMES)
    return _Person(f"{first} {surname_py}", _ascii_slug(first), _ascii_slug(surname_py))


def _unique_person(rng: random.Random, english: bool, taken: set[str]) -> _Person:
    """Draw a person whose name is not yet taken, numbering it only as a last resort."""
    draw = _english_person if english else _chinese_person
    person = draw(rng)
    for _ in range(80):
        if person.name not in taken:
            break
        person = draw(rng)
    else:
        base, k = person.name, 2
        while f"{base} ({k})" in taken:
            k += 1
        person = person._replace(name=f"{base} ({k})")
    taken.add(person.name)
    return person


# --------------------------------------------------------------------------------------------
# Phones, e-mails, addresses
# --------------------------------------------------------------------------------------------

# fmt: off
_MOBILE_PREFIXES: Final = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
)

# fmt: on
_ZH_MAIL_DOMAINS: Final = ("163.com", "126.com", "sina.com", "outlook.com", "foxmail.com")
_EN_MAIL_DOMAINS: Final = ("gmail.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me")


def _mobile(rng: random.Random, taken: set[str]) -> str:
    """Draw an unused Chinese mobile number formatted "+86 138 1234 5678"."""
    while True:
        prefix = rng.choice(_MOBILE_PREFIXES)
        phone = f"+86 {prefix} {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}"
        if phone not in taken:
            taken.add(phone)
            return phone


def _private_email(rng: random.Random, person: _Person, english: bool) -> str:
    """Make a personal address the way people in Shanghai actually have them."""
    if not english and rng.random() < 0.3:
        return f"{rng.randint(10_000_000, 3_999_999_999)}@qq.com"
    domains = _EN_MAIL_DOMAINS if english else _ZH_MAIL_DOMAINS
    style = rng.randrange(3)
    if style == 0:
        local = f"{person.given}.{person.family}"
    elif style == 1:
        local = f"{person.family}{person.given}{rng.randint(1, 99)}"
    else:
        local = f"{person.given[:1]}{person.family}{rng.randint(1970, 2005)}"
    return f"{local}@{rng.choice(domains)}"


def _room(rng: random.Random, max_floor: int = 32) -> str:
    """Draw a flat number such as 1201."""
    return f"{rng.randint(1, max_floor)}{rng.randint(1, 4):02d}"


def _ordinal_floor(floor: int) -> str:
    """Write a floor the way English building signs do (2F)."""
    return f"{floor}F"


def _address(rng: random.Random, district: DemoDistrict, english: bool, style: str) -> str:
    """Make a street address in the district, in Chinese or in pinyin/English form."""
    street_zh, street_en = rng.choice(district.streets)
    number = rng.randint(1, 1999)
    tail_en = f"{street_en}, {district.name_en}, Shanghai"
    head_zh = f"上海市{district.name_zh}{street_zh}"
    if style == "home":
        building, room = rng.randint(1, 24), _room(rng)
        if rng.random() < 0.5:
            if english:
                return f"Room {room}, No. {building}, Lane {number}, {tail_en}"
            return f"{head_zh}{number}弄{building}号{room}室"
        if english:
            return f"{room}, Bldg {building}, {number} {tail_en}"
        return f"{head_zh}{number}号{building}号楼{room}室"
    if style == "office":
        tower, floor = rng.choice("ABC"), rng.randint(3, 38)
        if english:
            return f"{_ordinal_floor(floor)}, Tower {tower}, {number} {tail_en}"
        return f"{head_zh}{number}号{tower}座{floor}楼"
    if style == "shop":
        floor = rng.choice((1, 1, 1, 2, 3))
        if english:
            return f"{_ordinal_floor(floor)}, {number} {tail_en}"
        return f"{head_zh}{number}号{floor}楼"
    # campus: hospitals, schools, malls, residential estates
    if english:
        return f"{number} {tail_en}"
    return f"{head_zh}{number}号"


def _point_in(rng: random.Random, district: DemoDistrict) -> tuple[float, float]:
    """Draw a coordinate inside the district's box, to six decimals (about 0.1 m)."""
    latitude = round(rng.uniform(district.lat_min, district.lat_max), 6)
    longitude = round(rng.uniform(district.lon_min, district.lon_max), 6)
    return latitude, longitude


_ACCESS_NOTES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "home": (
        ("门禁密码 {code}#，物业前台登记", "Gate code {code}#; sign in at the lobby"),
        (
            "小区东门进，访客车位在地下车库B{level}",
            "Enter by the east gate; visitor parking B{level}",
        ),
        ("家里有狗，到楼下请先打电话", "Dog at home - please call from downstairs"),
        ("老人在家，请提前半小时电话联系", "Elderly parent at home; call 30 minutes ahead"),
        ("钥匙在物业处，凭工单领取", "Key held by building management; show the work order"),
        ("工作日12:00-13:30请勿施工（午休）", "No noisy work 12:00-13:30 on weekdays"),
        ("请先联系门房，车可停B{level}", "Ring the concierge; parking in B{level}"),
    ),
    "company": (
        ("需提前一天向物业报备，走货梯", "Register with management a day ahead; use goods lift"),
        (
            "访客请在前台换证，地下车库B{level}可停车",
            "Swap ID for a pass at reception; parking B{level}",
        ),
        ("营业时间内施工请避开客人区域", "During opening hours keep out of guest areas"),
        ("后勤通道进入，联系工程部值班人员", "Use the service entrance; ask for the duty engineer"),
        ("动火作业须办理动火证", "Hot work needs a permit from building management"),
        ("卸货区在东侧，限高2.2米", "Loading bay on the east side, height limit 2.2 m"),
        ("机房钥匙在保安室，门禁密码 {code}#", "Plant room key at security; door code {code}#"),
    ),
}


# --------------------------------------------------------------------------------------------
# Assets
# --------------------------------------------------------------------------------------------

#: (kind, manufacturer, model, serial-number prefix, also found in homes).
_ASSET_MODELS: Final[tuple[tuple[str, str, str, str, bool], ...]] = (
    ("hvac", "Daikin", "Daikin VRV-N RXYQ10BRY", "DKV", False),
    ("hvac", "Daikin", "Daikin FTXJ335 split", "DKS", True),
    ("hvac", "Daikin", "Daikin SkyAir RZQ125", "DKA", False),
    ("hvac", "Gree", "Gree GMV6 KFR-72LW", "GRM", True),
    ("hvac", "Gree", "Gree KFR-35GW Yunjia", "GRK", True),
    ("hvac", "Midea", "Midea MDV-V200W VRF", "MDV", False),
    ("hvac", "Midea", "Midea KFR-35GW/N8MJA3", "MDK", True),
    ("hvac", "Mitsubishi Electric", "Mitsubishi Electric PUHY-P250 City Multi", "MEP", False),
    ("hvac", "Mitsubishi Electric", "Mitsubishi Electric MSZ-LN35VG", "MEM", True),
    ("water_heater", "A.O. Smith", "A.O. Smith E60VN3 electric 60 L", "AOE", True),
    ("water_heater", "A.O. Smith", "A.O. Smith JSQ31-VJ gas 16 L", "AOG", True),
    ("water_heater", "Haier", "Haier EC6002-MC3 electric 60 L", "HRE", True),
    ("water_heater", "Haier", "Haier JSQ25-13WN3 gas 13 L", "HRG", True),
    ("electrical_panel", "Schneider", "Schneider Prisma G switchboard", "SEP", False),
    ("electrical_panel", "Schneider", "Schneider Resi9 consumer unit", "SER", True),
    ("electrical_panel", "ABB", "ABB ArTu K distribution board", "ABK", False),
    ("electrical_panel", "ABB", "ABB System pro E enclosure", "ABE", True),
    ("pump", "Grundfos", "Grundfos CR 10-6 booster", "GFC", False),
    ("pump", "Grundfos", "Grundfos CMBE 5-62 pressure set", "GFB", False),
    ("pump", "Grundfos", "Grundfos UPS 25-60 circulator", "GFU", True),
    ("elevator", "Otis", "Otis Gen2 Regen", "OTG", False),
    ("elevator", "Otis", "Otis SkyBuild", "OTS", False),
    ("elevator", "Schindler", "Schindler 3300", "SC3", False),
    ("elevator", "Schindler", "Schindler 5500", "SC5", False),
    ("refrigeration", "Haier", "Haier SC-650 commercial display cooler", "HRC", False),
    ("refrigeration", "Haier", "Haier SL-1020 reach-in freezer", "HRF", False),
    ("refrigeration", "Haier", "Haier cold-room condensing unit 5 HP", "HRU", False),
)

# fmt: off
_HOUSEHOLD_ASSET_KINDS: Final = (
    "hvac", "hvac", "hvac", "water_heater", "water_heater", "electrical_panel", "pump",
)
# fmt: on


def _asset(
    rng: random.Random, kind: str, home: bool, today: date, taken_serials: set[str]
) -> DemoAsset:
    """Draw one asset of a kind, installed 0.5-10 years ago with 1-5 years of warranty."""
    models = [m for m in _ASSET_MODELS if m[0] == kind and (m[4] or not home)]
    _, manufacturer, model, prefix, _ = rng.choice(models)
    installed_on = today - timedelta(days=rng.randint(183, 3652))
    warranty_ends_on = installed_on + timedelta(days=rng.randint(365, 1826))
    while True:
        serial = f"{prefix}{installed_on:%y%m}{rng.randint(0, 999_999):06d}"
        if serial not in taken_serials:
            taken_serials.add(serial)
            break
    return DemoAsset(model, manufacturer, kind, serial, installed_on, warranty_ends_on)


# --------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------


class _CompanyKind(NamedTuple):
    """A line of business: how such companies are named and what they run."""

    code: str
    zh_names: tuple[str, ...]
    en_names: tuple[str, ...]
    mail_tag: str
    address_style: str
    site_labels: tuple[tuple[str, str], ...]
    asset_kinds: tuple[str, ...]


_COMPANY_KINDS: Final[tuple[_CompanyKind, ...]] = (
    _CompanyKind(
        "property",
        ("上海{place}物业管理有限公司", "上海{place}置业物业服务有限公司"),
        ("{place} Property Management Co., Ltd.", "{place} Estate Services"),
        "wy",
        "campus",
        (
            ("{district}一期", "{district} phase I"),
            ("{district}二期", "{district} phase II"),
            ("会所", "Clubhouse"),
            ("地下车库", "Basement car park"),
        ),
        ("elevator", "pump", "electrical_panel", "hvac"),
    ),
    _CompanyKind(
        "apartments",
        ("{place}服务式公寓", "{place}国际公寓"),
        ("{place} Serviced Apartments", "{place} Residences"),
        "apt",
        "campus",
        (
            ("主楼", "Main tower"),
            ("东楼", "East wing"),
            ("西楼", "West wing"),
            ("健身中心", "Fitness centre"),
        ),
        ("hvac", "hvac", "water_heater", "elevator", "pump"),
    ),
    _CompanyKind(
        "restaurant",
        ("{place}本帮菜馆", "{place}火锅", "{place}茶餐厅", "{place}小笼馆"),
        ("The {place} Bistro", "{place} Kitchen & Bar", "{place} Dumpling House"),
        "food",
        "shop",
        (
            ("{district}店", "{district} branch"),
            ("{district}店", "{district} branch"),
            ("中央厨房", "Central kitchen"),
            ("{district}外卖店", "{district} delivery kitchen"),
        ),
        ("hvac", "refrigeration", "refrigeration", "water_heater", "electrical_panel"),
    ),
    _CompanyKind(
        "clinic",
        ("上海{place}医院", "{place}社区卫生服务中心", "{place}口腔门诊部"),
        ("{place} International Clinic", "{place} Family Medical Centre"),
        "med",
        "campus",
        (
            ("门诊楼", "Outpatient building"),
            ("住院部", "Inpatient ward"),
            ("药房", "Pharmacy"),
            ("{district}分院", "{district} branch clinic"),
        ),
        ("hvac", "elevator", "electrical_panel", "pump", "refrigeration", "water_heater"),
    ),
    _CompanyKind(
        "school",
        ("上海市{place}实验学校", "上海{place}双语学校", "{place}幼儿园"),
        ("{place} International School", "{place} Academy"),
        "edu",
        "campus",
        (
            ("教学楼", "Teaching block"),
            ("体育馆", "Sports hall"),
            ("食堂", "Canteen"),
            ("{district}校区", "{district} campus"),
        ),
        ("hvac", "electrical_panel", "pump", "water_heater", "elevator"),
    ),
    _CompanyKind(
        "mall",
        ("{place}广场", "{place}购物中心", "{place}生活广场"),
        ("{place} Plaza", "{place} Mall"),
        "mall",
        "campus",
        (
            ("主楼", "Main building"),
            ("美食广场", "Food court"),
            ("地下车库", "Car park"),
            ("{district}店", "{district} store"),
        ),
        ("hvac", "elevator", "electrical_panel", "pump", "refrigeration"),
    ),
    _CompanyKind(
        "office",
        ("上海{place}科技有限公司", "上海{place}贸易有限公司", "{place}设计事务所"),
        ("{place} Trading Co., Ltd.", "{place} Consulting", "{place} Design Studio"),
        "co",
        "office",
        (
            ("总部", "Headquarters"),
            ("研发中心", "R&D centre"),
            ("仓库", "Warehouse"),
            ("{district}办事处", "{district} office"),
        ),
        ("hvac", "hvac", "electrical_panel", "elevator"),
    ),
)

_COMPANY_KIND_WEIGHTS: Final = (4, 2, 4, 2, 2, 2, 3)

# fmt: off
#: (Chinese place word, its pinyin) used in Chinese company names.
_ZH_PLACES: Final = (
    ("浦江", "pujiang"), ("申城", "shencheng"), ("外滩", "waitan"), ("华山", "huashan"),
    ("金桥", "jinqiao"), ("张江", "zhangjiang"), ("虹桥", "hongqiao"), ("陆家嘴", "lujiazui"),
    ("新天地", "xintiandi"), ("世纪", "shiji"), ("东方", "dongfang"), ("锦江", "jinjiang"),
    ("长风", "changfeng"), ("滨江", "binjiang"), ("静安", "jingan"), ("徐家汇", "xujiahui"),
    ("五角场", "wujiaochang"), ("古北", "gubei"), ("龙华", "longhua"), ("淞沪", "songhu"),
    ("瑞金", "ruijin"), ("衡山", "hengshan"), ("梅陇", "meilong"), ("大宁", "daning"),
    ("老西门", "laoximen"), ("田林", "tianlin"), ("莘庄", "xinzhuang"), ("江湾", "jiangwan"),
)

_EN_PLACES: Final = (
    "Harbour View", "Riverside", "Bund Side", "Century Park", "Garden Court", "Magnolia",
    "Pine Court", "Jade River", "Golden Bay", "Lotus", "Bamboo Grove", "Silver Oak",
    "Parkview", "Skyline", "Crescent", "Maple Leaf", "Red Lantern", "Plane Tree",
    "Old Town", "Huangpu River", "Lakeside", "Orchid", "Willow", "Pearl Tower",
)

# fmt: on
_HOUSEHOLD_NOTES: Final = (
    ("", ""),
    ("", ""),
    ("老客户，习惯周末上门", "Long-standing customer; prefers weekend visits"),
    ("对噪音敏感，尽量安排上午", "Sensitive to noise; book mornings where possible"),
    ("上次维修后回访满意", "Satisfied at the follow-up call after the last repair"),
    ("家有老人，上门请穿鞋套", "Elderly residents; please wear shoe covers"),
    ("只接受微信支付", "Pays by WeChat Pay only"),
)

_COMPANY_NOTES: Final = (
    ("", ""),
    ("月结客户，需开具增值税专用发票", "Monthly invoicing; needs a VAT special invoice"),
    ("服务合同含季度保养", "Service contract includes quarterly maintenance"),
    ("维修需提前报工程部审批", "Repairs need prior approval from the engineering office"),
    ("采购流程较长，报价请抄送财务", "Slow purchasing; copy quotes to finance"),
    ("夜间可施工，需保安陪同", "Night work allowed with a security escort"),
)


class _Run:
    """Mutable state shared by one generator run: the RNG, today and what is taken."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.today = today
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.serials: set[str] = set()


def _quota(
    rng: random.Random, n: int, shares: tuple[tuple[str, float, int], ...], rest: str
) -> list[str]:
    """Spread values over n items in fixed shares (with a minimum when n allows), shuffled."""
    values: list[str] = []
    for value, share, minimum in shares:
        count = int(n * share + 0.5)
        if n >= 2 * len(shares) + 1:
            count = max(count, minimum)
        values.extend([value] * count)
    values = values[:n] + [rest] * max(0, n - len(values))
    rng.shuffle(values)
    return values


def _sites(
    run: _Run,
    count: int,
    english: bool,
    style: str,
    labels: tuple[tuple[str, str], ...],
    note_kind: str,
    asset_kinds: tuple[str, ...],
) -> tuple[DemoSite, ...]:
    """Make count sites in distinct districts, each with 0-3 assets."""
    rng = run.rng
    districts = rng.sample(DISTRICTS, count)
    chosen_labels = rng.sample(labels, count) if len(labels) >= count else list(labels)
    sites: list[DemoSite] = []
    used_labels: set[str] = set()
    for index, district in enumerate(districts):
        label_zh, label_en = chosen_labels[index % len(chosen_labels)]
        label = (label_en if english else label_zh).format(
            district=district.short_en if english else district.short_zh
        )
        if label in used_labels:
            label = f"{label} {index + 1}"
        used_labels.add(label)
        latitude, longitude = _point_in(rng, district)
        note_zh, note_en = rng.choice(_ACCESS_NOTES[note_kind])
        note = (note_en if english else note_zh).format(
            code=rng.randint(1000, 9999), level=rng.randint(1, 3)
        )
        asset_count = rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 2))[0]
        assets = tuple(
            _asset(rng, rng.choice(asset_kinds), style == "home", run.today, run.serials)
            for _ in range(asset_count)
        )
        sites.append(
            DemoSite(
                label=label,
                address=_address(rng, district, english, style),
                district=district.name_zh,
                city="Shanghai" if english else "上海市",
                latitude=latitude,
                longitude=longitude,
                access_notes=note,
                assets=assets,
            )
        )
    return tuple(sites)


def _household(run: _Run, tier: str, english: bool) -> DemoCustomer:
    """Make a household: one flat, its residents as contacts."""
    rng = run.rng
    owner = _unique_person(rng, english, run.names)
    contacts = [
        DemoContact(
            owner.name,
            _mobile(rng, run.phones),
            _private_email(rng, owner, english) if rng.random() < 0.85 else None,
            True,
        )
    ]
    if rng.random() < 0.45:
        # a partner or grown-up child; expats are often married to locals
        partner = _english_person(rng) if english and rng.random() < 0.6 else _chinese_person(rng)
        partner_english = english and partner.name.isascii()
        email = _private_email(rng, partner, partner_english) if rng.random() < 0.6 else None
        contacts.append(DemoContact(partner.name, _mobile(rng, run.phones), email, False))
    if rng.random() < 0.15:
        surname, surname_py = rng.choice(_SURNAMES)
        helper = f"{surname_py} Ayi (housekeeper)" if english else f"{surname}阿姨（保姆）"
        contacts.append(DemoContact(helper, _mobile(rng, run.phones), None, False))
    note_zh, note_en = rng.choice(_HOUSEHOLD_NOTES)
    sites = _sites(run, 1, english, "home", (("住宅", "Home"),), "home", _HOUSEHOLD_ASSET_KINDS)
    return DemoCustomer(
        name=owner.name,
        tier=tier,
        preferred_locale="en" if english else "zh_CN",
        is_company=False,
        notes=note_en if english else note_zh,
        contacts=tuple(contacts),
        sites=sites,
    )


def _company_name(run: _Run, kind: _CompanyKind, english: bool) -> tuple[str, str]:
    """Draw an unused company name of this kind and its e-mail domain."""
    rng = run.rng
    name, domain = "", ""
    for _ in range(80):
        if english:
            place = rng.choice(_EN_PLACES)
            name = rng.choice(kind.en_names).format(place=place)
            domain = f"{_ascii_slug(place)}-{kind.mail_tag}.com"
        else:
            place_zh, place_py = rng.choice(_ZH_PLACES)
            name = rng.choice(kind.zh_names).format(place=place_zh)
            domain = f"{place_py}{kind.mail_tag}.com.cn"
        if name not in run.names:
            break
    else:
        base, k = name, 2
        while f"{base} ({k})" in run.names:
            k += 1
        name = f"{base} ({k})"
    run.names.add(name)
    return name, domain


def _company(run: _Run, tier: str, english: bool) -> DemoCustomer:
    """Make a company: 1-3 staff contacts and 1-4 sites."""
    rng = run.rng
    kind = rng.choices(_COMPANY_KINDS, weights=_COMPANY_KIND_WEIGHTS)[0]
    name, domain = _company_name(run, kind, english)
    contacts: list[DemoContact] = []
    for index in range(rng.choices((1, 2, 3), weights=(3, 4, 2))[0]):
        if english:
            person = _english_person(rng) if rng.random() < 0.4 else _staff_person(rng)
        else:
            person = _chinese_person(rng)
        if rng.random() < 0.9:
            email: str | None = f"{person.given}.{person.family}@{domain}"
        else:
            email = None
        contacts.append(DemoContact(person.name, _mobile(rng, run.phones), email, index == 0))
    site_count = rng.choices((1, 2, 3, 4), weights=(4, 3, 2, 1))[0]
    sites = _sites(
        run, site_count, english, kind.address_style, kind.site_labels, "company", kind.asset_kinds
    )
    note_zh, note_en = rng.choice(_COMPANY_NOTES)
    return DemoCustomer(
        name=name,
        tier=tier,
        preferred_locale="en" if english else "zh_CN",
        is_company=True,
        notes=note_en if english else note_zh,
        contacts=tuple(contacts),
        sites=sites,
    )


def demo_customers(n: int, seed: int = 7, *, today: date = DEFAULT_TODAY) -> list[DemoCustomer]:
    """Generate n customers with unique names: households and companies, zh_CN and en."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    run = _Run(seed, today)
    tiers = _quota(run.rng, n, (("vip", 0.05, 1), ("key", 0.15, 1)), "standard")
    locales = _quota(run.rng, n, (("en", 0.2, 1),), "zh_CN")
    kinds = _quota(run.rng, n, (("company", 0.4, 1),), "household")
    customers: list[DemoCustomer] = []
    for tier, locale, kind in zip(tiers, locales, kinds, strict=True):
        make = _company if kind == "company" else _household
        customers.append(make(run, tier, locale == "en"))
    return customers


# --------------------------------------------------------------------------------------------
# Technicians
# --------------------------------------------------------------------------------------------

#: Skills that usually come together (an HVAC tech often also does refrigeration).
_RELATED_SKILLS: Final[dict[str, tuple[str, ...]]] = {
    "hvac": ("refrigeration", "electrical"),
    "electrical": ("elevator", "appliance", "hvac"),
    "plumbing": ("appliance",),
    "appliance": ("plumbing", "electrical", "refrigeration"),
    "elevator": ("electrical",),
    "refrigeration": ("hvac", "appliance"),
}

#: Certificates a skill calls for (the Chinese name of the permit, then English).
_SKILL_CERTS: Final[dict[str, tuple[str, ...]]] = {
    "hvac": ("制冷与空调作业证 (Refrigeration & AC)", "高处作业证 (Work at height)"),
    "refrigeration": ("制冷与空调作业证 (Refrigeration & AC)",),
    "electrical": ("低压电工作业证 (Low-voltage electrician)",),
    "elevator": (
        "特种设备作业人员证 (Elevator)",
        "低压电工作业证 (Low-voltage electrician)",
    ),
    "plumbing": ("燃气具安装维修证 (Gas appliance installer)",),
    "appliance": ("家用电子电器维修工证 (Appliance repair)",),
}

_WEEKDAYS: Final = (0, 1, 2, 3, 4)
_TUE_TO_SAT: Final = (1, 2, 3, 4, 5)


def _tech_skills(rng: random.Random, primary: str) -> tuple[tuple[str, int], ...]:
    """Rate a technician on the primary skill and 0-3 more, related skills being likelier."""
    extra = rng.choices((0, 1, 2, 3), weights=(3, 4, 2, 1))[0]
    pool = [s for s in SKILL_CODES if s != primary]
    chosen: list[str] = []
    for _ in range(extra):
        weights = [4 if s in _RELATED_SKILLS[primary] else 1 for s in pool]
        pick = rng.choices(pool, weights=weights)[0]
        pool.remove(pick)
        chosen.append(pick)
    skills = [(primary, rng.randint(3, 5))]
    skills.extend((s, rng.randint(1, 4)) for s in chosen)
    return tuple(skills)


def _tech_certifications(
    rng: random.Random, skills: tuple[tuple[str, int], ...], status: str, today: date
) -> tuple[tuple[str, date], ...]:
    """Give the permits the skills need; status says whether the first is expired or due."""
    names: list[str] = []
    for skill, level in skills:
        for index, cert in enumerate(_SKILL_CERTS[skill]):
            # the secondary permit of a skill only for those good at it
            if cert not in names and (index == 0 or level >= 3):
                names.append(cert)
    certifications: list[tuple[str, date]] = []
    for index, name in enumerate(names):
        if index == 0 and status == "expired":
            expires_on = today - timedelta(days=rng.randint(1, 120))
        elif index == 0 and status == "due":
            expires_on = today + timedelta(days=rng.randint(1, 60))
        else:
            expires_on = today + timedelta(days=rng.randint(90, 1800))
        certifications.append((name, expires_on))
    return tuple(certifications)


def _working_hours(rng: random.Random) -> tuple[tuple[int, str, str], ...]:
    """Draw a weekly pattern: office hours mostly, some Tue-Sat, some evening shifts."""
    pattern = rng.choices(("day", "tue_sat", "evening"), weights=(70, 18, 12))[0]
    if pattern == "evening":
        return tuple((day, "13:00", "22:00") for day in _WEEKDAYS)
    days = _TUE_TO_SAT if pattern == "tue_sat" else _WEEKDAYS
    return tuple((day, "08:30", "17:30") for day in days)


def _unique_email(local: str, domain: str, taken: set[str]) -> str:
    """Return local@domain, numbering the local part if it is already used."""
    email, k = f"{local}@{domain}", 2
    while email in taken:
        email, k = f"{local}{k}@{domain}", k + 1
    taken.add(email)
    return email


def demo_technicians(
    n: int, seed: int = 11, *, today: date = DEFAULT_TODAY
) -> list[DemoTechnician]:
    """Generate n technicians tech01..techNN spread over teams, skills and districts."""
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    run = _Run(seed, today)
    rng = run.rng
    width = max(2, len(str(n)))
    # every skill and team gets an even share of primaries, so coverage never depends on luck
    primaries = [SKILL_CODES[i % len(SKILL_CODES)] for i in range(n)]
    rng.shuffle(primaries)
    teams = [TEAMS[i % len(TEAMS)] for i in range(n)]
    rng.shuffle(teams)
    locales = _quota(rng, n, (("en", 0.08, 1),), "zh_CN")
    cert_status = _quota(rng, n, (("due", 0.15, 2), ("expired", 0.07, 1)), "valid")
    on_call = _quota(rng, n, (("yes", 0.2, 1),), "no")
    emails: set[str] = set()
    by_name = {d.name_zh: d for d in DISTRICTS}
    technicians: list[DemoTechnician] = []
    for index in range(n):
        english = locales[index] == "en"
        person = _unique_person(rng, english, run.names)
        skills = _tech_skills(rng, primaries[index])
        district = by_name[rng.choice(_TEAM_HOME_DISTRICTS[teams[index]])]
        latitude, longitude = _point_in(rng, district)
        hours = _working_hours(rng)
        evening = hours[0][1] == "13:00"
        technicians.append(
            DemoTechnician(
                username=f"tech{index + 1:0{width}d}",
                display_name=person.name,
                email=_unique_email(f"{person.given}.{person.family}", "fieldwork.example", emails),
                phone=_mobile(rng, run.phones),
                locale="en" if english else "zh_CN",
                team=teams[index],
                region=teams[index],
                skills=skills,
                certifications=_tech_certifications(rng, skills, cert_status[index], today),
                home_latitude=latitude,
                home_longitude=longitude,
                home_address=_address(rng, district, english, "home"),
                working_hours=hours,
                is_on_call=on_call[index] == "yes",
                max_jobs_per_day=rng.randint(4, 6) if evening else rng.randint(4, 8),
            )
        )
    return technicians


def district_by_name(name: str) -> DemoDistrict:
    """Find a district by its Chinese or English name."""
    for district in DISTRICTS:
        if name in (district.name_zh, district.name_en):
            return district
    raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Work order texts, resolutions and parts
# --------------------------------------------------------------------------------------------

#: Per category: (Chinese title, Chinese description, English title, English description).
#: Descriptions may use the fields ``_text_fields`` fills in.
_ORDER_TEXTS: Final[dict[str, tuple[tuple[str, str, str, str], ...]]] = {
    "HVAC-REPAIR": (
        (
            "空调不制冷，外机有异响",
            "客厅{brand}空调开机后只吹风不制冷，外机运转时有明显的咔嗒声，已经持续{days}天。",
            "AC not cooling, outdoor unit noisy",
            "The {brand} unit in the living room only blows air and does not cool; the outdoor"
            " unit makes a loud clicking noise. This has been going on for {days} days.",
        ),
        (
            "空调室内机漏水",
            "卧室挂机出风口下方一直滴水，地板已经湿了，怀疑排水管堵塞。",
            "Indoor AC unit leaking water",
            "Water keeps dripping from under the bedroom unit onto the floor. The condensate"
            " drain may be blocked.",
        ),
        (
            "空调显示故障代码 {code}",
            "{brand}空调面板显示故障代码 {code}，断电重启后几分钟又报错停机。",
            "AC shows error code {code}",
            "The {brand} unit shows error {code} and stops; after a power reset it runs for a"
            " few minutes and trips again.",
        ),
        (
            "中央空调部分区域不出风",
            "{floor}楼东侧会议室几个出风口没有风，其他区域正常，温度降不下来。",
            "Central AC: no airflow in part of the floor",
            "Several outlets in the east meeting rooms on floor {floor} give no air while the"
            " rest of the floor is fine; the rooms stay warm.",
        ),
        (
            "空调制热效果差",
            "制热开到30度房间还是很冷，外机结霜严重，每隔一会儿就停机化霜。",
            "Poor heating performance",
            "Heating set to 30 °C but the room stays cold; the outdoor unit ices up and keeps"
            " stopping to defrost.",
        ),
        (
            "空调出风有霉味",
            "开机后出风有明显霉味，家里有小孩，希望尽快清洗检查。",
            "AC smells musty",
            "The air smells musty as soon as the unit starts. We have small children at home,"
            " please clean and check it soon.",
        ),
        (
            "空调无法开机",
            "{brand}空调遥控和面板按键都没反应，电源指示灯不亮，空开没有跳。",
            "AC will not switch on",
            "The {brand} unit does not respond to the remote or the panel buttons; the power"
            " light is off although the breaker has not tripped.",
        ),
    ),
    "ELEC-REPAIR": (
        (
            "厨房回路频繁跳闸",
            "同时用微波炉和电水壶时厨房回路就跳闸，漏电保护器有时复位不了。",
            "Kitchen circuit keeps tripping",
            "The kitchen circuit trips whenever the microwave and kettle run together; the RCD"
            " sometimes will not reset.",
        ),
        (
            "部分房间停电",
            "卧室和书房的灯和插座都没电，配电箱里对应的空开合不上。",
            "No power in part of the flat",
            "Lights and sockets in the bedroom and study are dead; the matching breaker in the"
            " consumer unit will not stay on.",
        ),
        (
            "插座发热有焦味",
            "客厅一个五孔插座面板发烫，有焦糊味，已经停止使用。",
            "Socket hot with a burning smell",
            "One socket in the living room is hot to the touch and smells burnt. We have stopped"
            " using it.",
        ),
        (
            "办公室灯光闪烁",
            "{floor}楼开放办公区LED灯管频繁闪烁，员工反映眼睛不适。",
            "Office lights flickering",
            "LED tubes in the open-plan office on floor {floor} flicker constantly; staff"
            " complain of eye strain.",
        ),
        (
            "配电柜有嗡嗡声",
            "地下配电房一台配电柜持续发出嗡嗡声，柜门发热，请检查。",
            "Buzzing from the distribution board",
            "A switchboard in the basement plant room hums continuously and its door is warm."
            " Please inspect.",
        ),
        (
            "晚上总闸漏电跳闸",
            "每到晚上十点左右总闸漏电保护就跳闸，第二天早上复位正常，已经{days}天了。",
            "Main RCD trips every night",
            "The main RCD trips at around 10 pm every night and resets fine in the morning."
            " This has happened for {days} days.",
        ),
        (
            "门头招牌灯不亮",
            "店铺门头招牌灯整排不亮，晚上营业受影响。",
            "Shop sign lights out",
            "The whole row of lights in our shop sign is out, which hurts evening trade.",
        ),
    ),
    "PLUMB-REPAIR": (
        (
            "卫生间天花板渗水",
            "楼下邻居反映卫生间吊顶在滴水，怀疑我家地漏或者管道渗漏。",
            "Water seeping through the bathroom ceiling",
            "The neighbour below says water drips from their bathroom ceiling; it may be our"
            " floor drain or a pipe.",
        ),
        (
            "厨房下水道堵塞",
            "厨房水槽下水很慢，今天完全堵住了，有异味。",
            "Kitchen drain blocked",
            "The kitchen sink has drained slowly for a while and is now completely blocked and"
            " smells.",
        ),
        (
            "马桶一直流水",
            "马桶冲完水后水箱一直进水停不下来，水费明显增加。",
            "Toilet keeps running",
            "After flushing, the cistern keeps filling and never stops; the water bill has gone"
            " up noticeably.",
        ),
        (
            "热水器进水管接口漏水",
            "{wh}热水器进水口软管接头处滴水，下面放了盆接着。",
            "Leak at the water heater inlet",
            "The hose joint at the inlet of the {wh} water heater drips; there is a bowl under"
            " it for now.",
        ),
        (
            "水压太低",
            "{floor}楼整层水龙头水压很小，淋浴几乎出不来水。",
            "Low water pressure",
            "Water pressure on the whole of floor {floor} is very low; the showers barely run.",
        ),
        (
            "水龙头关不紧",
            "厨房水龙头关到底还在滴水，阀芯可能坏了。",
            "Tap will not shut off",
            "The kitchen tap still drips when fully closed; the cartridge is probably worn.",
        ),
        (
            "水泵频繁启停",
            "地下室加压水泵每隔几分钟就启停一次，噪音很大，住户投诉。",
            "Booster pump cycling on and off",
            "The booster pump in the basement starts and stops every few minutes; it is loud and"
            " residents are complaining.",
        ),
    ),
    "APPL-REPAIR": (
        (
            "电热水器不出热水",
            "{wh}电热水器通电指示灯亮，但加热一晚上水还是凉的。",
            "Electric water heater not heating",
            "The power light on the {wh} water heater is on, but the water is still cold after"
            " heating overnight.",
        ),
        (
            "燃气热水器打不着火",
            "{wh}燃气热水器打开热水后只听到点火声，不出热水，显示{code}。",
            "Gas water heater will not ignite",
            "The {wh} gas water heater clicks when the hot tap opens but never lights; the"
            " display shows {code}.",
        ),
        (
            "冰箱冷藏室不冷",
            "冰箱冷冻正常，冷藏室温度只有{temp}度左右，食物容易坏。",
            "Fridge compartment not cold",
            "The freezer works but the fridge compartment only gets down to about {temp} °C and"
            " food spoils.",
        ),
        (
            "洗衣机不排水",
            "洗衣机洗完后不排水，显示故障代码 {code}，桶里全是水。",
            "Washing machine will not drain",
            "The washing machine will not drain after the wash and shows error {code}; the drum"
            " is full of water.",
        ),
        (
            "油烟机吸力变小",
            "抽油烟机吸力明显变小，声音变大，炒菜时满屋油烟。",
            "Range hood has weak suction",
            "The range hood has lost most of its suction and got louder; the kitchen fills with"
            " smoke when cooking.",
        ),
        (
            "商用冷柜温度偏高",
            "后厨冷藏柜温度显示{temp}°C，设定是3°C，食材存放有风险。",
            "Commercial fridge running warm",
            "The kitchen reach-in fridge shows {temp} °C against a 3 °C set point; stock is at"
            " risk.",
        ),
    ),
    "INSTALL": (
        (
            "新装挂式空调一台",
            "新买的{brand} 1.5匹挂机需要安装，外机位在阳台外侧，需要打孔。",
            "Install a new wall-mounted AC",
            "Please install a new 1.5 HP {brand} split unit. The outdoor unit goes outside the"
            " balcony and a wall hole is needed.",
        ),
        (
            "安装电热水器",
            "卫生间安装60升{wh}电热水器，墙体是砖墙，已预留插座。",
            "Install an electric water heater",
            "Install a 60 L {wh} electric water heater in the bathroom; brick wall, socket"
            " already in place.",
        ),
        (
            "更换配电箱",
            "老房子配电箱太旧，想换成带漏电保护的新配电箱，共{days}个回路。",
            "Replace the consumer unit",
            "The consumer unit in this old flat is worn out; please replace it with a new one"
            " with RCD protection, {days} circuits.",
        ),
        (
            "安装新风系统",
            "办公室{floor}楼安装新风系统，需要现场勘查后确定管路走向。",
            "Install a fresh-air ventilation system",
            "Install fresh-air ventilation in the office on floor {floor}; duct routing to be"
            " agreed after a site survey.",
        ),
        (
            "店铺新增照明回路",
            "店面重新装修，需要新增一路照明回路和6个射灯。",
            "Add a lighting circuit in the shop",
            "The shop is being refitted and needs one new lighting circuit with six spotlights.",
        ),
        (
            "安装厨下净水器",
            "厨房水槽下安装净水器，需要加装一个三通和专用龙头。",
            "Install an under-sink water purifier",
            "Install a water purifier under the kitchen sink, with a tee and a dedicated tap.",
        ),
        (
            "空调移机",
            "搬家后需要把{brand}空调从旧房间移到新房间，需补充冷媒。",
            "Relocate an AC unit",
            "After moving rooms we need the {brand} unit moved to the new room, including a"
            " refrigerant top-up.",
        ),
    ),
    "PM": (
        (
            "中央空调季度保养",
            "按合同进行季度保养：清洗过滤网、检查冷媒压力、测量运行电流并记录。",
            "Quarterly central AC maintenance",
            "Contract quarterly service: clean filters, check refrigerant pressures, measure and"
            " record running currents.",
        ),
        (
            "电梯月度维保",
            "{lift}号电梯月度保养：检查门机、制动器、钢丝绳和应急通话。",
            "Monthly elevator maintenance",
            "Monthly service of lift {lift}: check door operator, brake, ropes and the emergency"
            " phone.",
        ),
        (
            "配电柜年度检测",
            "年度配电柜检测，包括红外测温、紧固接线和漏电保护测试。",
            "Annual switchboard inspection",
            "Annual switchboard inspection: thermal imaging, re-torque terminals and test RCDs.",
        ),
        (
            "水泵房巡检",
            "检查生活水泵运行状态、压力罐气压和控制柜，记录运行参数。",
            "Pump room inspection",
            "Check the domestic water pumps, pressure vessel charge and control panel; record"
            " readings.",
        ),
        (
            "热水器年度保养",
            "{wh}热水器年度保养：检查镁棒、清洗内胆水垢、检测安全阀。",
            "Water heater annual service",
            "Annual service of the {wh} water heater: check the anode, descale the tank and test"
            " the relief valve.",
        ),
        (
            "冷库制冷机组保养",
            "冷库机组清洗冷凝器、检查压缩机油位和温控设定。",
            "Cold room refrigeration service",
            "Cold room unit: clean the condenser, check compressor oil level and controller"
            " settings.",
        ),
        (
            "夏季空调预检",
            "入夏前检查全部{brand}空调，清洗滤网并试运行制冷。",
            "Pre-summer AC check",
            "Before summer, check all {brand} units, clean filters and test-run cooling.",
        ),
    ),
    "COMPLAINT": (
        (
            "师傅迟到{hours}小时",
            "预约上午9-11点，师傅晚了{hours}个小时才到，也没有提前打电话说明。",
            "Technician {hours} hours late",
            "The appointment was 9-11 am but the technician arrived {hours} hours late without"
            " calling ahead.",
        ),
        (
            "维修后问题依旧",
            "上周刚修过，今天又出现同样的问题，要求免费返修并给个说法。",
            "Problem not fixed after the last visit",
            "It was repaired last week and the same fault is back today. We expect a free"
            " return visit and an explanation.",
        ),
        (
            "收费与报价不符",
            "电话里报价{quoted}元，现场实际收了{charged}元，没有提前告知。",
            "Charged more than quoted",
            "We were quoted {quoted} yuan on the phone but charged {charged} yuan on site"
            " without being told beforehand.",
        ),
        (
            "师傅态度不好",
            "维修师傅说话很不耐烦，问问题也不解释，体验很差。",
            "Technician was rude",
            "The technician was impatient and would not explain anything when asked. Very poor"
            " experience.",
        ),
        (
            "施工后未清理现场",
            "打孔后灰尘和包装垃圾都没清理，地板也被划伤了。",
            "Mess left after the work",
            "Dust from drilling and packaging were left behind, and the floor got scratched.",
        ),
        (
            "预约被取消未通知",
            "请了半天假在家等，结果预约被取消了也没有人通知。",
            "Appointment cancelled without notice",
            "I took half a day off to wait at home, and the visit was cancelled without anyone"
            " telling me.",
        ),
        (
            "更换配件后出现新问题",
            "上次换了配件之后，现在开机有焦味，怀疑配件质量有问题。",
            "New fault after a part was replaced",
            "Since the part was replaced last time there is a burning smell at start-up; the"
            " part may be faulty.",
        ),
    ),
    "EMERGENCY": (
        (
            "水管爆裂，家中大量进水",
            "厨房水管突然爆裂，已经关了总阀，但地上积水很多，楼下可能也受影响。",
            "Burst pipe, flat flooding",
            "A kitchen pipe burst. The main valve is shut but the floor is flooded and the flat"
            " below may be affected.",
        ),
        (
            "诊所全部停电",
            "诊所突然全部停电，疫苗冷藏冰箱也断电了，请立即派人。",
            "Power out at the clinic",
            "The clinic has lost all power, including the vaccine fridge. Please send someone"
            " immediately.",
        ),
        (
            "电梯困人",
            "{lift}号电梯停在{floor}楼和上一层之间，里面有一人被困，已安抚等待救援。",
            "Person trapped in an elevator",
            "Lift {lift} is stuck between floor {floor} and the next, with one person inside."
            " They have been reassured and are waiting.",
        ),
        (
            "配电箱冒烟",
            "配电箱冒烟并有焦味，已拉下总闸，请马上派电工。",
            "Smoke from the distribution board",
            "Smoke and a burning smell from the distribution board. The main switch is off;"
            " please send an electrician now.",
        ),
        (
            "地下车库进水",
            "暴雨导致地下车库进水，排污泵没有启动，水位还在上涨。",
            "Basement car park flooding",
            "Heavy rain is flooding the basement car park; the sump pump has not started and the"
            " water is rising.",
        ),
        (
            "冷库停机",
            "冷库制冷机组停机，库温已升到{temp}°C，里面有大量食材。",
            "Cold room down, stock at risk",
            "The cold room unit has stopped and the room is already at {temp} °C with a full"
            " load of stock.",
        ),
    ),
}

_HVAC_BRANDS: Final = (
    ("格力", "Gree"),
    ("大金", "Daikin"),
    ("美的", "Midea"),
    ("三菱电机", "Mitsubishi Electric"),
)
_HEATER_BRANDS: Final = (("A.O.史密斯", "A.O. Smith"), ("海尔", "Haier"))
_ERROR_CODES: Final = ("E1", "E4", "E6", "F0", "H6", "P4", "E9", "C5")


def _is_chinese(locale: str) -> bool:
    """Tell whether a locale string asks for Chinese text."""
    return locale.lower().startswith("zh")


def _category(table: Mapping[str, _V], category_code: str) -> _V:
    """Look a category up, or raise ValueError naming the known codes."""
    try:
        return table[category_code]
    except KeyError:
        known = ", ".join(CATEGORY_CODES)
        raise ValueError(f"unknown category code {category_code!r}; known: {known}") from None


def _text_fields(rng: random.Random, chinese: bool) -> dict[str, str | int]:
    """Draw the details order texts mention: brands, codes, floors, amounts."""
    hvac_zh, hvac_en = rng.choice(_HVAC_BRANDS)
    heater_zh, heater_en = rng.choice(_HEATER_BRANDS)
    quoted = rng.choice((150, 200, 280, 300, 350, 480))
    return {
        "brand": hvac_zh if chinese else hvac_en,
        "wh": heater_zh if chinese else heater_en,
        "code": rng.choice(_ERROR_CODES),
        "days": rng.randint(2, 6),
        "floor": rng.randint(2, 28),
        "hours": rng.randint(2, 3),
        "lift": rng.randint(1, 4),
        "temp": rng.randint(8, 14),
        "quoted": quoted,
        "charged": quoted + rng.choice((100, 150, 220, 260)),
    }


def demo_order_text(category_code: str, locale: str, rng: random.Random) -> DemoOrderText:
    """Draw a realistic work order title and description for a category, in the locale."""
    variants = _category(_ORDER_TEXTS, category_code)
    title_zh, description_zh, title_en, description_en = rng.choice(variants)
    chinese = _is_chinese(locale)
    fields = _text_fields(rng, chinese)
    title, description = (title_zh, description_zh) if chinese else (title_en, description_en)
    return DemoOrderText(title.format_map(fields), description.format_map(fields))


#: Per category: (resolution code, Chinese work notes, English work notes).
_RESOLUTIONS: Final[dict[str, tuple[tuple[str, str, str], ...]]] = {
    "HVAC-REPAIR": (
        (
            "replaced_part",
            "压缩机启动电容鼓包，更换后试机制冷正常，出风温度12°C。",
            "Start capacitor bulged; replaced, cooling test OK, outlet air 12 °C.",
        ),
        (
            "adjusted",
            "冷媒不足，检漏无明显漏点，补充冷媒至标准压力。",
            "Low on refrigerant, no obvious leak found; topped up to rated pressure.",
        ),
        (
            "cleaned",
            "排水管被污物堵塞，疏通并清洗接水盘，试机无漏水。",
            "Condensate drain clogged; cleared and cleaned the drip tray, no leak on test.",
        ),
        (
            "replaced_part",
            "室外风机电机轴承损坏，更换风机电机，异响消除。",
            "Outdoor fan motor bearing worn; motor replaced, noise gone.",
        ),
        (
            "no_fault_found",
            "现场试机两小时运行正常，未复现故障，已告知客户观察。",
            "Ran for two hours on site with no fault; asked the customer to keep an eye on it.",
        ),
        (
            "temporary_fix",
            "主板继电器粘连，临时处理恢复运行，主板已订货待更换。",
            "Control board relay sticking; temporary fix in place, board on order.",
        ),
    ),
    "ELEC-REPAIR": (
        (
            "replaced_part",
            "漏电保护器老化误动作，更换为新的40A 30mA漏保。",
            "RCD worn and nuisance-tripping; replaced with a new 40 A 30 mA RCD.",
        ),
        (
            "replaced_part",
            "插座内部接线端子烧蚀，更换插座并重新接线紧固。",
            "Socket terminals burnt; socket replaced and rewired tightly.",
        ),
        (
            "adjusted",
            "配电柜接线端子松动发热，全部紧固后测温正常。",
            "Loose terminals in the board were heating; all re-torqued, temperatures normal.",
        ),
        (
            "no_fault_found",
            "绝缘测试和负载测试均正常，怀疑为电器瞬时冲击，建议观察。",
            "Insulation and load tests pass; likely an appliance surge. Monitor.",
        ),
        (
            "temporary_fix",
            "故障回路已隔离，其余回路恢复供电，需另约时间更换线路。",
            "Faulty circuit isolated, others restored; rewiring to be booked separately.",
        ),
    ),
    "PLUMB-REPAIR": (
        (
            "replaced_part",
            "软管接头老化开裂，更换不锈钢编织软管，试压无渗漏。",
            "Hose joint cracked; replaced with braided hose, pressure test shows no leak.",
        ),
        (
            "cleaned",
            "下水管道油污堵塞，机械疏通后排水顺畅。",
            "Drain blocked with grease; mechanically cleared, draining freely.",
        ),
        (
            "replaced_part",
            "马桶进水阀失效，更换进水阀并调整水位。",
            "Toilet fill valve failed; replaced and water level set.",
        ),
        (
            "adjusted",
            "减压阀设定过低，调整后各楼层水压恢复正常。",
            "Pressure reducing valve set too low; adjusted, pressure normal on all floors.",
        ),
        (
            "temporary_fix",
            "暗管渗漏，已用抢修节临时止漏，需开槽彻底维修。",
            "Concealed pipe leaking; repair clamp fitted, wall chase needed for a full fix.",
        ),
    ),
    "APPL-REPAIR": (
        (
            "replaced_part",
            "加热管烧断，更换加热管和镁棒，加热正常。",
            "Heating element burnt out; element and anode replaced, heating normally.",
        ),
        (
            "replaced_part",
            "点火针积碳，更换点火器后点火正常。",
            "Igniter fouled; replaced, lights reliably.",
        ),
        (
            "cleaned",
            "排水泵被异物卡住，清理后排水正常。",
            "Drain pump jammed by debris; cleared, drains normally.",
        ),
        (
            "adjusted",
            "温控器设定错误，重新设定并校准温度。",
            "Thermostat set wrongly; reset and calibrated.",
        ),
        (
            "no_fault_found",
            "检测各项功能正常，指导客户正确使用。",
            "All functions test fine; showed the customer how to use it.",
        ),
    ),
    "INSTALL": (
        (
            "installed",
            "设备已安装调试完成，试运行正常，已向客户讲解使用方法。",
            "Installed and commissioned, test run OK, customer shown how to use it.",
        ),
        (
            "installed",
            "按图纸完成安装，管路保温包扎，打孔处已封堵。",
            "Installed to drawing, pipes insulated, wall openings sealed.",
        ),
        (
            "adjusted",
            "安装完成，调整外机支架水平并加装减震垫。",
            "Installation done; levelled the outdoor bracket and fitted anti-vibration pads.",
        ),
        (
            "temporary_fix",
            "现场缺少配件，先完成主体安装，剩余部分下次上门完成。",
            "Missing parts on site; main installation done, remainder at the next visit.",
        ),
    ),
    "PM": (
        (
            "inspected",
            "按保养清单完成全部检查项目，各项参数正常，已记录。",
            "All checklist items done, readings normal and recorded.",
        ),
        (
            "cleaned",
            "清洗过滤网和冷凝器翅片，运行电流下降约8%。",
            "Cleaned filters and condenser coil; running current down about 8%.",
        ),
        (
            "replaced_part",
            "保养中发现皮带磨损，已更换新皮带。",
            "Worn belt found during service; replaced.",
        ),
        (
            "adjusted",
            "调整制动器间隙和门机参数，运行平稳。",
            "Brake gap and door operator settings adjusted; runs smoothly.",
        ),
    ),
    "COMPLAINT": (
        (
            "goodwill_credit",
            "已致电客户道歉，核实情况属实，给予本次服务费减免。",
            "Called the customer to apologise; complaint upheld, service fee waived.",
        ),
        (
            "replaced_part",
            "免费返修，更换故障配件，并由主管回访确认。",
            "Free return visit, faulty part replaced; supervisor confirmed by phone.",
        ),
        (
            "adjusted",
            "复核收费明细，退还多收费用，已向客户说明。",
            "Reviewed the charges, refunded the overcharge and explained it to the customer.",
        ),
        (
            "no_fault_found",
            "回访设备运行正常，客户表示理解，投诉关闭。",
            "Equipment working on follow-up; customer satisfied, complaint closed.",
        ),
        (
            "goodwill_credit",
            "对技师进行服务规范培训，向客户赠送一次免费保养。",
            "Technician coached on conduct; customer offered one free maintenance visit.",
        ),
    ),
    "EMERGENCY": (
        (
            "temporary_fix",
            "关闭阀门并用抢修节止漏，抽排积水，明天安排正式维修。",
            "Valve closed, repair clamp fitted, water pumped out; permanent repair tomorrow.",
        ),
        (
            "replaced_part",
            "总开关故障，更换断路器后恢复供电，冷藏设备已恢复运行。",
            "Main breaker failed; replaced, power restored and fridges running again.",
        ),
        (
            "adjusted",
            "到场后手动盘车放人，被困人员安全；门锁触点调整后电梯恢复运行。",
            "Released the passenger by manual winding, unhurt; door lock contact adjusted.",
        ),
        (
            "replaced_part",
            "排污泵浮球开关损坏，更换后水泵自动启动，积水已排出。",
            "Sump pump float switch broken; replaced, pump runs and water is cleared.",
        ),
        (
            "temporary_fix",
            "冷库机组高压保护，临时清理冷凝器恢复制冷，需进一步检修。",
            "Cold room unit on high-pressure cut-out; condenser cleaned to restore cooling,"
            " follow-up needed.",
        ),
    ),
}


def demo_resolution(category_code: str, locale: str, rng: random.Random) -> tuple[str, str]:
    """Draw a resolution code and the technician's work notes, in the locale."""
    code, notes_zh, notes_en = rng.choice(_category(_RESOLUTIONS, category_code))
    return code, notes_zh if _is_chinese(locale) else notes_en


#: Per category: (part number, bilingual description, max quantity).
_PARTS: Final[dict[str, tuple[tuple[str, str, int], ...]]] = {
    "HVAC-REPAIR": (
        ("HV-CAP-035", "压缩机启动电容 Start capacitor 35µF", 1),
        ("HV-FAN-ODU72", "室外风机电机 Outdoor fan motor 72W", 1),
        ("HV-R32-3KG", "R32 冷媒 Refrigerant R32 3 kg", 2),
        ("HV-PCB-IDU", "室内机主板 Indoor unit control board", 1),
        ("HV-NTC-10K", "温度传感器 Temperature sensor 10kΩ", 2),
        ("HV-DRN-PUMP", "冷凝水提升泵 Condensate lift pump", 1),
        ("HV-EXV-01", "电子膨胀阀 Electronic expansion valve", 1),
    ),
    "ELEC-REPAIR": (
        ("EL-MCB-C16", "微型断路器 Miniature circuit breaker C16", 2),
        ("EL-RCD-40-30", "漏电保护器 RCD 40A 30mA", 1),
        ("EL-SKT-5H10", "五孔插座 5-pin socket outlet 10A", 3),
        ("EL-BV-2.5", "BV 2.5mm² 电线（米） Cable BV 2.5mm² (m)", 15),
        ("EL-LED-T8-18", "LED 灯管 LED tube T8 18W", 6),
        ("EL-SW-2G", "双联开关 2-gang switch", 2),
        ("EL-CNT-25", "交流接触器 AC contactor 25A", 1),
    ),
    "PLUMB-REPAIR": (
        ("PL-BV-DN20", "球阀 Ball valve DN20", 2),
        ("PL-HOSE-60", "不锈钢编织软管 Braided hose 60cm", 2),
        ("PL-SEAL-KIT", "密封圈套装 Seal kit", 1),
        ("PL-PPR-25", "PPR 管（米） PPR pipe 25mm (m)", 6),
        ("PL-TRAP-50", "存水弯 Drain trap 50mm", 1),
        ("PL-FILL-V", "马桶进水阀 Toilet fill valve", 1),
        ("PL-PRV-15", "减压阀 Pressure reducing valve DN15", 1),
    ),
    "APPL-REPAIR": (
        ("AP-HTR-2K", "加热管 Heating element 2kW", 1),
        ("AP-TSTAT-75", "温控器 Thermostat 75°C", 1),
        ("AP-GASKET-F", "冰箱门封条 Fridge door gasket", 1),
        ("AP-ANODE-MG", "镁棒 Magnesium anode rod", 1),
        ("AP-IGN-01", "点火器 Igniter", 1),
        ("AP-PCB-WM", "洗衣机主板 Washer control board", 1),
        ("AP-DRN-PUMP", "排水泵 Drain pump", 1),
    ),
    "INSTALL": (
        ("IN-BRKT-ODU", "外机支架 Outdoor unit wall bracket", 1),
        ("IN-CU-1/4-3/8", '铜管（米） Copper pipe set 1/4"+3/8" (m)', 8),
        ("IN-INS-TAPE", "保温包扎带 Insulation wrap tape", 3),
        ("IN-ANCHOR-M10", "膨胀螺栓 Expansion anchor M10", 8),
        ("IN-CBL-4", "电源线（米） Power cable 4mm² (m)", 10),
        ("IN-DRN-HOSE", "排水管（米） Drain hose (m)", 5),
    ),
    "PM": (
        ("PM-FLT-G4", "G4 初效过滤网 G4 pre-filter", 6),
        ("PM-COIL-CLN", "翅片清洗剂 Coil cleaner 500ml", 2),
        ("PM-BELT-A42", "风机皮带 Fan belt A42", 2),
        ("PM-GREASE", "润滑脂 Lubricating grease", 1),
        ("PM-FLT-WTR", "前置过滤器滤芯 Water pre-filter cartridge", 2),
        ("PM-BAT-12V7", "应急照明蓄电池 Emergency light battery 12V 7Ah", 4),
    ),
    "EMERGENCY": (
        ("EM-MCB-C32", "断路器 Circuit breaker C32", 1),
        ("EM-GV-DN25", "闸阀 Gate valve DN25", 1),
        ("EM-SUMP-FLT", "排污泵浮球开关 Sump pump float switch", 1),
        ("EM-DOOR-CNT", "电梯门锁触点 Elevator door lock contact", 1),
        ("EM-CLAMP-25", "管道抢修节 Pipe repair clamp DN25", 2),
        ("EM-UPS-BAT", "UPS 蓄电池 UPS battery 12V 9Ah", 4),
    ),
}

#: Complaints need parts only when the earlier repair was redone.
_COMPLAINT_PART_SOURCES: Final = ("HVAC-REPAIR", "ELEC-REPAIR", "PLUMB-REPAIR", "APPL-REPAIR")


def demo_parts(category_code: str, rng: random.Random) -> list[tuple[str, str, int]]:
    """Draw the parts a visit of this category used: (part number, description, quantity)."""
    if category_code == "COMPLAINT":
        if rng.random() < 0.6:
            return []
        catalogue = _PARTS[rng.choice(_COMPLAINT_PART_SOURCES)]
        count = 1
    else:
        catalogue = _category(_PARTS, category_code)
        count = rng.choices((1, 2, 3), weights=(5, 3, 1))[0]
    return [
        (number, description, rng.randint(1, max_quantity))
        for number, description, max_quantity in rng.sample(catalogue, count)
    ]
