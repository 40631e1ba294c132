"""The work order list's first page with 100,000 orders on PostgreSQL (issue 7).

The orders are bulk-loaded by the benchmark's own loader (bench/console.py), so the test
and `python -m bench.console` look at the same data; the benchmark adds the timings.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from bench.console import VARIANTS, load, measure
from tests.conftest import build_app, dispose

#: The list page's statements: session, user, counts, the page, its technicians, …
MAX_STATEMENTS = 12


pytestmark = pytest.mark.postgresql_only  # the acceptance point names PostgreSQL


@pytest.fixture(scope="module")
def big_app(databases, tmp_path_factory):
    url = databases.create()
    app = build_app(url, tmp_path_factory.mktemp("big"))
    load(make_url(url).set(drivername="postgresql").render_as_string(False), 100_000)
    yield app
    dispose(app)


def test_every_list_variant_over_100k_orders_runs_a_few_statements(big_app):
    results = measure(big_app, repeat=1)

    assert [name for name, *_ in results] == [name for name, _ in VARIANTS]
    for name, _median, _p95, statements, rows in results:
        assert statements <= MAX_STATEMENTS, (name, statements)
        assert rows <= 50, name
    first_page = results[0]
    assert first_page[4] == 50  # a full page out of 100,000
