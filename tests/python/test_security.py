"""No configuration value runs SQL: identifiers are quoted or validated, strings are literals.

Each finding of issue 11 is reproduced here with its exact outcome. The registry test at the
end lists every var of dbt_project.yml with a hostile value and builds with them.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from dbt_harness import BUILD_SCHEMA, PROJECT_DIR, DbtProject
from test_robustness import CUSTOMER_COLUMNS, ORDER_COLUMNS, base_customers, base_orders, write_csv

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
        con.execute("delete from main_build.business_segment_rules where rule_id = 10")  # a seed: build schema
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
                             "where business_segment_priority is null group by 1", schema="main_build")
    assert fallback.to_dict("records") == [{"business_segment": copy_attack(target), "n": 3}]


def test_dont_contact_works_as_the_fallback(built):
    folder, project, base = built
    result = project.dbt("build", "--select", "int_customers_business_segmented", "customer_segments",
                         vars={**base, "business_segment_fallback": "Don't contact"})
    assert result.success, project.failure_summary(result)
    fallback = project.query("select business_segment, count(*) as n from customer_segments "
                             "where business_segment_priority is null group by 1", schema="main_build")
    assert fallback.to_dict("records") == [{"business_segment": "Don't contact", "n": 3}]


# --- every var with a hostile value ---------------------------------------------------------
# Each var of dbt_project.yml is listed with a hostile value and the outcome it must have:
#   "data"  - the build succeeds and the value is stored as text (shared build, below);
#   "typed" - on-run-start names the var and nothing runs (all typed vars in one build);
#   "own"   - the var's own validating macro names it (one build each; they stop at the first).
# Hostile values use both attacks: a double quote to leave an identifier and a single quote
# to leave a literal, followed by SQL that would drop a table or write a file.

def hostile_registry(folder: Path, orders_csv: Path, customers_csv: Path) -> dict[str, tuple]:
    copy = copy_attack(folder / "f.csv")
    return {
        # text values: data
        "business_segment_fallback": (copy, "data"),
        "rfm_no_purchase_segment": (DROP, "data"),
        "orders_input": ({"file": str(orders_csv), "cancelled_order_id_prefix": copy,
                          "cancelled_statuses": [DROP_SINGLE, copy]}, "data"),
        "customers_input": ({"file": str(customers_csv), "date_format": copy}, "data"),
        # names and inputs: refused by their own macro, naming the var
        "clustering_input": ({"table": DROP}, "own", "var clustering_input.table must be a plain"),
        "as_of_date": (copy, "own", "var as_of_date must be a date written YYYY-MM-DD"),
        "min_order_date": (copy, "own", "var min_order_date must be a date written YYYY-MM-DD"),
        "rfm_bins": (DROP, "own", "var rfm_bins must be an integer from 2 to 9"),
        "business_rule_numeric_columns": ([DROP], "own", "var business_rule_numeric_columns must list plain"),
        "business_rule_text_columns": ([copy], "own", "var business_rule_text_columns must list plain"),
        "age_band_edges": ([18, copy], "own", "var age_band_edges must be a list of ascending integers"),
        # feature names are quoted identifiers: the clustering input has no such column
        "cluster_features": ([DROP], "own", f"The clustering feature '{DROP}' (var cluster_features"),
        "cluster_categorical_features": ([copy], "own",
                                         f"The clustering feature '{copy}' "
                                         "(var cluster_features / cluster_categorical_features)"),
        "cluster_optional_features": ([DROP], "own", "var cluster_optional_features must list features"),
        "cluster_log_features": ([copy], "own", "var cluster_log_features must list features"),
        # checked by the CLV macro clv_horizons when the project is parsed
        "clv_horizons_days": ([90, DROP], "own", "var clv_horizons_days must be"),
        "clv_time_unit": (copy, "own", "var clv_time_unit must be 'days' or 'weeks'"),
        # typed vars: every one is named in one message
        **{name: (value, "typed") for name, value in {
            "clustering_mode": copy, "retrain_after_days": DROP, "retrain_max_customer_change": copy,
            "cluster_scaler": DROP, "cluster_null_strategy": copy,
            "drift_test_severity": DROP, "cluster_clip_quantiles": [0.01, copy],
            "segment_max_churn": {"rfm": copy}, "n_clusters": DROP, "cluster_categorical_weight": copy,
            "cluster_categorical_max_levels": DROP, "cluster_k_min": copy, "cluster_k_max": DROP,
            "cluster_n_init": copy, "cluster_max_iter": DROP, "random_state": copy,
            "training_sample_size": DROP, "silhouette_sample_size": copy, "tree_max_depth": DROP,
            "tree_min_samples_leaf": copy, "stability_bootstraps": DROP, "new_cluster_max_distance": copy,
            "min_cluster_share": copy, "min_tree_fidelity": "0.8 or 1 = 1); copy (select 1) to 'g.csv'; --",
            "segment_min_share": DROP, "segment_max_share": copy, "segment_max_share_change": DROP,
            "segment_max_psi": copy, "max_excluded_line_share": DROP, "incremental_lookback_days": copy,
            "clv_mode": copy, "clv_purchase_model": DROP,
            "clv_churn_risk_edges": [copy], "clv_annual_discount_rate": DROP,
            "clv_training_sample_size": copy, "clv_min_training_customers": DROP, "clv_penalizer_coef": copy,
            "clv_fallback_penalizer_coef": DROP, "clv_max_frequency_monetary_correlation": copy,
            "cluster_min_relative_spread": DROP, "cluster_name_recent_max_days": copy,
            "cluster_name_lapsed_min_days": DROP, "cluster_name_new_max_days": copy,
            "cluster_name_long_standing_min_days": DROP, "cluster_match_min_overlap": copy,
            "rfm_recency_method": DROP, "rfm_frequency_method": copy, "rfm_monetary_method": DROP,
            "rfm_recency_edges_days": [30, copy], "rfm_frequency_edges": [DROP], "rfm_monetary_edges": copy,
            "demo_data": DROP,
            "cluster_algorithm": copy, "cluster_gmm_covariance_type": DROP, "cluster_gmm_n_init": copy,
            "cluster_kprototypes_gamma": DROP, "cluster_birch_threshold": copy,
            "cluster_hdbscan_min_cluster_size": DROP, "cluster_hdbscan_min_samples": copy,
            "cluster_meanshift_bandwidth": DROP, "cluster_meanshift_quantile": copy,
            "cluster_slow_method_sample_size": DROP, "cluster_comparison_enabled": copy,
            "cluster_comparison_algorithms": [DROP], "cluster_comparison_sample_size": copy,
            "cluster_comparison_bootstraps": DROP, "cluster_comparison_max_noise_share": copy,
        }.items()},
    }


def state(project: DbtProject, folder: Path) -> tuple:
    """Every table with its row count and a checksum of its rows, and every file."""
    tables = {}
    with duckdb.connect(str(project.database), read_only=True) as con:
        for schema, name in con.sql("select table_schema, table_name from information_schema.tables "
                                    "where table_type = 'BASE TABLE' order by 1, 2").fetchall():
            tables[f"{schema}.{name}"] = con.sql(
                f'select count(*), sum(hash(t)) from "{schema}"."{name}" as t').fetchone()
    return tables, files_under(folder)


def test_every_var_is_in_the_hostile_registry(built):
    folder, _, base = built
    declared = set(yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
    registry = hostile_registry(folder, Path(base["orders_input"]["file"]), Path(base["customers_input"]["file"]))
    assert set(registry) == declared


def test_hostile_text_values_are_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_data")
    customers = base_customers() + [{"customer_id": "K99", "signup_date": "2024-01-15"}]
    orders = base_orders() + [{**base_orders()[0], "order_id": "X9999", "status": DROP_SINGLE, "amount": "5.00"}]
    registry = hostile_registry(folder, write_csv(folder / "orders.csv", ORDER_COLUMNS, orders),
                                write_csv(folder / "customers.csv", CUSTOMER_COLUMNS, customers))
    data = {name: entry[0] for name, entry in registry.items() if entry[1] == "data"}
    project = DbtProject(PROJECT_DIR, database=folder / "case.duckdb", target_path=folder / "target")
    files = files_under(folder)
    # The seed of RFM segment descriptions has no entry for the hostile no-purchase name, so
    # the three tests that demand one (rightly) fail; every other test runs.
    result = project.dbt("build", "--exclude-resource-type", "unit_test", "--exclude",
                         "not_null_customer_segments_rfm_segment_description",
                         "relationships_customer_segments_rfm_segment__rfm_segment__ref_rfm_segment_descriptions_",
                         "not_null_segment_cards_description",
                         vars=data)
    assert result.success, project.failure_summary(result)
    # the only new file is the database the build wrote
    assert files_under(folder) - {project.database} == files and not (folder / "f.csv").exists()
    assert project.scalar("select rfm_segment from customer_segments where customer_id = 'K99'") == DROP
    rfm_cards = project.query("select segment from segment_cards where segmentation_type = 'rfm'")
    assert rfm_cards["segment"].eq(DROP).sum() == 1
    # the hostile status is one of cancelled_statuses: that line is flagged cancelled, as data
    assert project.scalar("select is_flagged_cancelled from int_order_lines_checked where order_id = 'X9999'") is True
    # the hostile date_format reads no date: every given date is counted, none is lost
    assert project.scalar(
        "select rows_affected from data_quality_report where check_name = 'unreadable_birth_date'") == 12
    assert project.scalar("select count(*) from customer_features") == 13


def test_hostile_typed_vars_are_each_named_before_anything_runs(built):
    folder, project, base = built
    registry = hostile_registry(folder, Path(base["orders_input"]["file"]), Path(base["customers_input"]["file"]))
    typed = {name: entry[0] for name, entry in registry.items() if entry[1] == "typed"}
    before = state(project, folder)
    result = project.dbt("build", vars={**base, **typed})
    assert not result.success
    message = project.messages(result)
    for name in typed:
        assert f"var {name} must be " in message, name
    assert state(project, folder) == before


OWN_CHECK = ["clustering_input", "as_of_date", "min_order_date", "rfm_bins", "business_rule_numeric_columns",
             "business_rule_text_columns", "age_band_edges", "cluster_features", "cluster_categorical_features",
             "cluster_optional_features", "cluster_log_features", "clv_horizons_days", "clv_time_unit"]
# Feature names are checked against the clustering input's columns when it compiles.
FEATURE_BUILD = {"vars": {"cluster_optional_features": [], "cluster_log_features": []},
                 "select": "int_customers_clustering_input"}


def test_every_own_check_var_is_built(built):
    folder, _, base = built
    registry = hostile_registry(folder, Path(base["orders_input"]["file"]), Path(base["customers_input"]["file"]))
    assert sorted(OWN_CHECK) == sorted(name for name, entry in registry.items() if entry[1] == "own")


#: The models tagged input_state (dbt_project.yml): the incremental order-line state.
INPUT_STATE = ("int_order_lines_grouped", "int_orders_aggregated", "int_customers_orders_summarized",
               "int_customers_purchase_days", "int_order_customers")


def test_input_state_names_are_the_tagged_models():
    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    features = project["models"]["customer_segmentation"]["features"]
    tagged = {name for name, config in features.items()
              if isinstance(config, dict) and "input_state" in (config.get("+tags") or [])}
    assert tagged == set(INPUT_STATE)


@pytest.mark.parametrize("name", OWN_CHECK)
def test_hostile_vars_with_their_own_check_are_named(built, name):
    """Each stops before its model is written; nothing else changes."""
    folder, project, base = built
    registry = hostile_registry(folder, Path(base["orders_input"]["file"]), Path(base["customers_input"]["file"]))
    value, outcome, message = registry[name]
    extra = FEATURE_BUILD if name in ("cluster_features", "cluster_categorical_features") else {}
    before = state(project, folder)
    marker = f"{BUILD_SCHEMA}.wap_build_state"
    was_dirty = project.scalar("select status from wap_build_state", schema=BUILD_SCHEMA) == "dirty"
    result = project.dbt("build", "--select", extra.get("select", "stg_orders"),
                         vars={**base, **extra.get("vars", {}), name: value})
    assert not result.success
    assert message in project.messages(result)
    after = state(project, folder)
    # A check that runs when its model compiles stops a run that has started: the build
    # schema's marker then says 'dirty' (the next build restores the state tables first).
    # Every other table and every file is unchanged.
    if after[0][marker] != before[0][marker]:
        assert project.scalar("select status from wap_build_state", schema=BUILD_SCHEMA) == "dirty"
    for tables in (before[0], after[0]):
        tables.pop(marker)
    if was_dirty:
        # A run after an unclean one starts by dropping the incremental order-line state
        # (README "Incremental daily builds": the next build reads every line again).
        # (An earlier case may have dropped it already.)
        for name in INPUT_STATE:
            assert f"{BUILD_SCHEMA}.{name}" not in after[0]
            before[0].pop(f"{BUILD_SCHEMA}.{name}", None)
    assert after == before

