import random
import re
from collections import Counter
from datetime import date, timedelta

import pytest

from server.demo_data import (
    ASSET_KINDS,
    CATEGORY_CODES,
    DEFAULT_TODAY,
    DISTRICTS,
    RESOLUTION_CODES,
    SHANGHAI_BOUNDS,
    SKILL_CODES,
    TEAMS,
    DemoCustomer,
    DemoTechnician,
    demo_customers,
    demo_order_text,
    demo_parts,
    demo_resolution,
    demo_technicians,
    district_by_name,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
MOBILE = re.compile(r"^\+86 1[358]\d \d{4} \d{4}$")


def rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - demo data, not secrets


@pytest.fixture(scope="module")
def customers() -> list[DemoCustomer]:
    return demo_customers(200)


@pytest.fixture(scope="module")
def technicians() -> list[DemoTechnician]:
    return demo_technicians(25)


def test_same_seed_gives_same_data() -> None:
    assert demo_customers(40, seed=3) == demo_customers(40, seed=3)
    assert demo_technicians(25, seed=5) == demo_technicians(25, seed=5)
    first, second = rng(9), rng(9)
    for code in CATEGORY_CODES:
        assert demo_order_text(code, "zh_CN", first) == demo_order_text(code, "zh_CN", second)
        assert demo_resolution(code, "en", first) == demo_resolution(code, "en", second)
        assert demo_parts(code, first) == demo_parts(code, second)


def test_different_seeds_give_different_data() -> None:
    assert demo_customers(20, seed=1) != demo_customers(20, seed=2)
    assert demo_technicians(10, seed=1) != demo_technicians(10, seed=2)


def test_generators_return_the_requested_counts() -> None:
    for n in (0, 1, 3, 17):
        assert len(demo_customers(n)) == n
        assert len(demo_technicians(n)) == n


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        demo_customers(-1)
    with pytest.raises(ValueError, match="negative"):
        demo_technicians(-1)


def test_customer_names_are_unique(customers: list[DemoCustomer]) -> None:
    names = [c.name for c in customers]
    assert len(names) == len(set(names))


def test_customer_names_stay_unique_beyond_the_name_pool() -> None:
    names = [c.name for c in demo_customers(2500, seed=1)]
    assert len(names) == len(set(names))


def test_asset_serial_numbers_are_unique(customers: list[DemoCustomer]) -> None:
    serials = [a.serial_number for c in customers for s in c.sites for a in s.assets]
    assert len(serials) > 100
    assert len(serials) == len(set(serials))


def test_tier_mix_is_mostly_standard_with_some_vip_and_key(
    customers: list[DemoCustomer],
) -> None:
    tiers = Counter(c.tier for c in customers)
    assert set(tiers) == {"vip", "key", "standard"}
    assert 5 <= tiers["vip"] <= 15
    assert 20 <= tiers["key"] <= 40
    assert tiers["standard"] > len(customers) / 2


def test_both_languages_and_both_customer_kinds_are_present(
    customers: list[DemoCustomer],
) -> None:
    locales = Counter(c.preferred_locale for c in customers)
    assert set(locales) == {"zh_CN", "en"}
    assert 0.1 <= locales["en"] / len(customers) <= 0.3
    assert {c.is_company for c in customers} == {True, False}
    assert any(CJK.search(c.name) for c in customers)
    assert any(not CJK.search(c.name) and not c.is_company for c in customers)


def test_customer_texts_follow_the_preferred_locale(customers: list[DemoCustomer]) -> None:
    for customer in customers:
        for site in customer.sites:
            if customer.preferred_locale == "en":
                assert not CJK.search(site.address)
                assert site.address.endswith(", Shanghai")
                assert site.city == "Shanghai"
            else:
                assert site.address.startswith("上海市" + site.district)
                assert site.city == "上海市"


def test_contacts_have_one_primary_and_chinese_mobiles(customers: list[DemoCustomer]) -> None:
    with_email = 0
    for customer in customers:
        assert 0 < len(customer.contacts) <= 3
        assert [c.is_primary for c in customer.contacts].count(True) == 1
        assert customer.contacts[0].is_primary
        for contact in customer.contacts:
            assert MOBILE.match(contact.phone), contact.phone
            if contact.email is not None:
                assert re.match(r"^[a-z0-9.]+@[a-z0-9.-]+\.[a-z]+$", contact.email)
        with_email += customer.contacts[0].email is not None
    assert with_email > len(customers) * 0.7


def test_households_have_one_site_and_companies_up_to_four(
    customers: list[DemoCustomer],
) -> None:
    for customer in customers:
        if customer.is_company:
            assert 0 < len(customer.sites) <= 4
        else:
            assert len(customer.sites) == 1
        assert len({s.label for s in customer.sites}) == len(customer.sites)
        for site in customer.sites:
            assert 0 <= len(site.assets) <= 3
            assert site.access_notes


def test_sites_lie_in_shanghai_and_in_their_district_box(customers: list[DemoCustomer]) -> None:
    lat_min, lat_max, lon_min, lon_max = SHANGHAI_BOUNDS
    seen = set()
    for customer in customers:
        for site in customer.sites:
            assert lat_min <= site.latitude <= lat_max
            assert lon_min <= site.longitude <= lon_max
            assert district_by_name(site.district).contains(site.latitude, site.longitude)
            seen.add(site.district)
    assert seen == {d.name_zh for d in DISTRICTS}


def test_district_boxes_lie_inside_shanghai() -> None:
    lat_min, lat_max, lon_min, lon_max = SHANGHAI_BOUNDS
    for district in DISTRICTS:
        assert lat_min <= district.lat_min < district.lat_max <= lat_max
        assert lon_min <= district.lon_min < district.lon_max <= lon_max
        assert len(district.streets) >= 5
        assert district_by_name(district.name_en) is district


def test_unknown_district_name_raises() -> None:
    with pytest.raises(KeyError):
        district_by_name("Atlantis")


def test_assets_have_plausible_dates_and_kinds(customers: list[DemoCustomer]) -> None:
    for customer in customers:
        for site in customer.sites:
            for asset in site.assets:
                assert asset.kind in ASSET_KINDS
                assert asset.model.startswith(asset.manufacturer)
                age = DEFAULT_TODAY - asset.installed_on
                assert timedelta(days=180) <= age <= timedelta(days=3653)
                warranty = asset.warranty_ends_on - asset.installed_on
                assert timedelta(days=365) <= warranty <= timedelta(days=1827)
                if asset.kind == "elevator":
                    assert customer.is_company


def test_asset_dates_follow_the_given_today() -> None:
    today = date(2030, 1, 1)
    assets = [a for c in demo_customers(30, today=today) for s in c.sites for a in s.assets]
    assert assets
    assert all(a.installed_on <= today - timedelta(days=180) for a in assets)


def test_technician_usernames_are_numbered_with_two_digits(
    technicians: list[DemoTechnician],
) -> None:
    assert [t.username for t in technicians] == [f"tech{i:02d}" for i in range(1, 26)]


def test_technician_usernames_get_three_digits_from_one_hundred() -> None:
    usernames = [t.username for t in demo_technicians(120)]
    assert usernames[0] == "tech001"
    assert usernames[-1] == "tech120"
    assert len(set(usernames)) == 120


def test_technicians_have_unique_names_emails_and_phones(
    technicians: list[DemoTechnician],
) -> None:
    for field in ("display_name", "email", "phone"):
        values = [getattr(t, field) for t in technicians]
        assert len(values) == len(set(values)), field
    assert all(MOBILE.match(t.phone) for t in technicians)


def test_every_skill_is_covered_by_at_least_three_technicians(
    technicians: list[DemoTechnician],
) -> None:
    coverage = Counter(skill for t in technicians for skill, _ in t.skills)
    assert set(coverage) == set(SKILL_CODES)
    assert min(coverage.values()) >= 3


def test_technician_profiles_are_within_their_ranges(technicians: list[DemoTechnician]) -> None:
    lat_min, lat_max, lon_min, lon_max = SHANGHAI_BOUNDS
    for tech in technicians:
        assert tech.team in TEAMS
        assert tech.region == tech.team
        assert tech.locale in ("zh_CN", "en")
        assert 0 < len(tech.skills) <= 4
        assert len({s for s, _ in tech.skills}) == len(tech.skills)
        assert all(1 <= level <= 5 for _, level in tech.skills)
        assert tech.certifications
        assert 4 <= tech.max_jobs_per_day <= 8
        assert lat_min <= tech.home_latitude <= lat_max
        assert lon_min <= tech.home_longitude <= lon_max
        assert tech.home_address
        for weekday, start, end in tech.working_hours:
            assert 0 <= weekday <= 6
            assert re.match(r"^\d\d:\d\d$", start)
            assert start < end
    assert {t.team for t in technicians} == set(TEAMS)
    assert Counter(t.locale for t in technicians)["en"] >= 1


def test_technician_shifts_and_on_call_are_mixed() -> None:
    technicians = demo_technicians(50)
    patterns = Counter(t.working_hours for t in technicians)
    office_hours = tuple((day, "08:30", "17:30") for day in range(5))
    assert patterns.most_common(1)[0][0] == office_hours
    assert len(patterns) >= 2
    on_call = sum(t.is_on_call for t in technicians)
    assert 5 <= on_call <= 15


def test_some_certifications_are_due_soon_and_some_expired(
    technicians: list[DemoTechnician],
) -> None:
    expiries = [expires for t in technicians for _, expires in t.certifications]
    assert any(e < DEFAULT_TODAY for e in expiries)
    assert any(DEFAULT_TODAY <= e <= DEFAULT_TODAY + timedelta(days=60) for e in expiries)
    assert sum(e > DEFAULT_TODAY + timedelta(days=60) for e in expiries) > len(expiries) / 2


@pytest.mark.parametrize("category", CATEGORY_CODES)
def test_order_text_exists_in_both_languages(category: str) -> None:
    draw = rng(1)
    for _ in range(20):
        zh = demo_order_text(category, "zh_CN", draw)
        en = demo_order_text(category, "en", draw)
        assert CJK.search(zh.title)
        assert CJK.search(zh.description)
        assert en.title
        assert en.description
        assert not CJK.search(en.title + en.description)
        assert "{" not in zh.description + en.description


@pytest.mark.parametrize("category", CATEGORY_CODES)
def test_order_text_has_at_least_six_variants(category: str) -> None:
    draw = rng(2)
    titles = {demo_order_text(category, "en", draw).title for _ in range(300)}
    assert len(titles) >= 6


def test_category_codes_are_the_eight_known_ones() -> None:
    assert CATEGORY_CODES == (
        "HVAC-REPAIR",
        "ELEC-REPAIR",
        "PLUMB-REPAIR",
        "APPL-REPAIR",
        "INSTALL",
        "PM",
        "COMPLAINT",
        "EMERGENCY",
    )


@pytest.mark.parametrize("category", CATEGORY_CODES)
def test_resolution_and_parts_exist_for_every_category(category: str) -> None:
    draw = rng(3)
    for _ in range(10):
        code, notes_zh = demo_resolution(category, "zh_CN", draw)
        assert code in RESOLUTION_CODES
        assert CJK.search(notes_zh)
        code, notes_en = demo_resolution(category, "en", draw)
        assert code in RESOLUTION_CODES
        assert not CJK.search(notes_en)
        for number, description, quantity in demo_parts(category, draw):
            assert re.match(r"^[A-Z]{2}-", number)
            assert CJK.search(description)
            assert re.search(r"[A-Za-z]", description)
            assert quantity >= 1


def test_unknown_category_raises() -> None:
    draw = rng(0)
    with pytest.raises(ValueError, match="NOPE"):
        demo_order_text("NOPE", "en", draw)
    with pytest.raises(ValueError, match="NOPE"):
        demo_resolution("NOPE", "en", draw)
    with pytest.raises(ValueError, match="NOPE"):
        demo_parts("NOPE", draw)
