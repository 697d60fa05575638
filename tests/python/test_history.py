"""Segment history: the snapshot, size history and transitions on a tiny hand-made dataset,
the drift tests (they warn on drift, stay quiet without it) and the replay command.

The datasets are CSV files in tmp_path, read through the `orders_input` / `customers_input`
vars; every build runs at an explicit `as_of_date`, so each step sees only what was known then.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import math
from pathlib import Path

import pytest

from dbt_harness import PROJECT_DIR, DbtProject, _environment, _release_duckdb

D1, D2, D3 = "2025-03-01", "2025-06-01", "2025-09-01"
SNAPSHOT_AND_HISTORY = ("build", "--select", "+customer_segments_snapshot+", "--exclude-resource-type", "unit_test")
# The drift tests that compare the latest as-of date with the previous one.
CHANGE_TESTS = ("segment_size_history_share_change_below_max", "segment_size_history_psi_below_max",
                "segment_transitions_business_churn_below_max", "segment_transitions_rfm_churn_below_max",
                "segment_transitions_cluster_churn_below_max")
DRIFT_TESTS = CHANGE_TESTS + ("segment_size_history_share_within_bounds",)
# Small data: two clusters, leaves of one customer (the defaults assume thousands).
TINY_CLUSTERING = {"n_clusters": 2, "tree_min_samples_leaf": 1}


# --- the hand-made dataset -----------------------------------------------------------------
#   A  buys every month (Sep 2024 - Aug 2025)       -> Loyal throughout
#   B  buys monthly Sep 2024 - Jan 2025, then stops -> Loyal at D1, Occasional at D2 (recency > 120)
#   C  one order of 1500 on 2025-02-01              -> VIP at D1 and D2, Lapsed high value at D3 (recency > 180)
#   D  one order of 30 on 2025-01-10                -> One-time buyer throughout
#   E  signed up, never ordered; missing from the customers input at D2, back at D3
#   F  signs up 2025-04-15, one order 2025-05-01     -> unknown at D1, new customer at D2

CUSTOMERS = {"A": "2024-09-01", "B": "2024-09-01", "C": "2025-01-01", "D": "2024-12-01",
             "E": "2024-10-01", "F": "2025-04-15"}


def _orders() -> list[tuple[str, str, str]]:
    months = ["2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04",
              "2025-05", "2025-06", "2025-07", "2025-08"]
    rows = [("A", f"{month}-15", "40.00") for month in months]
    rows += [("B", f"{month}-20", "40.00") for month in months[:5]]
    rows += [("C", "2025-02-01", "1500.00"), ("D", "2025-01-10", "30.00"), ("F", "2025-05-01", "60.00")]
    return rows


def _write_customers(path: Path, signups: dict[str, str]) -> Path:
    path.write_text("customer_id,signup_date,country\n"
                    + "".join(f"{customer},{signup},Sweden\n" for customer, signup in signups.items()))
    return path


def _write_orders(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("order_id,customer_id,ordered_at,amount\n"
                    + "".join(f"O{number:03d},{customer},{day} 10:00:00,{amount}\n"
                              for number, (customer, day, amount) in enumerate(rows, start=1)))
    return path


def _step_vars(as_of_date: str, customers: Path, orders: Path, mode: str, **extra) -> dict:
    return {"as_of_date": as_of_date, "clustering_mode": mode,
            "orders_input": {"file": str(orders)}, "customers_input": {"file": str(customers)},
            **TINY_CLUSTERING, **extra}


def _statuses(result) -> dict[str, str]:
    return {node.node.name: str(node.status) for node in result.result.results}


@pytest.fixture(scope="module")
def tiny_history(tmp_path_factory) -> DbtProject:
    """The project built at D1 (train), D2 (score, E missing) and D3 (train: a new model).
    Shared by the tests below, which only read it or rebuild it without changing it."""
    tmp_path = tmp_path_factory.mktemp("tiny_history")
    project_copy = DbtProject.copy_of(PROJECT_DIR, tmp_path / "project")
    everyone = _write_customers(tmp_path / "customers.csv", CUSTOMERS)
    without_e = _write_customers(tmp_path / "customers_without_e.csv",
                                 {key: value for key, value in CUSTOMERS.items() if key != "E"})
    orders = _write_orders(tmp_path / "orders.csv", _orders())
    for as_of_date, customers, mode in [(D1, everyone, "train"), (D2, without_e, "score"), (D3, everyone, "train")]:
        project_copy.dbt(*SNAPSHOT_AND_HISTORY, vars=_step_vars(as_of_date, customers, orders, mode),
                         expect_success=True)
    project_copy.orders, project_copy.customers = orders, everyone
    return project_copy


def test_snapshot_keeps_every_state_dated_by_as_of_date(tiny_history):
    rows = tiny_history.query("""
        select customer_id, rfm_segment, business_segment, cluster_id, cluster_status,
               cluster_model_version, cast(as_of_date as varchar) as as_of_date,
               cast(dbt_valid_from as varchar) as valid_from, cast(dbt_valid_to as varchar) as valid_to,
               dbt_is_deleted
        from customer_segments_snapshot
        order by customer_id, dbt_valid_from, dbt_is_deleted""")
    rows = rows.astype(object).where(rows.notna(), None)
    expected = [
        # RFM recency by the default fixed edges (5: <= 30 days, 4: <= 90, 3: <= 180, 2: <= 365).
        # A keeps buying (last purchase 14 / 17 days before): Champions throughout. The retrain
        # at D3 keeps A's cluster id (members matched): only the model version changes.
        ("A", "Champions", "Loyal", 1, "classified", 1, D1, D1, D3, "False"),
        ("A", "Champions", "Loyal", 1, "classified", 2, D3, D3, None, "False"),
        # B stopped buying after January: Loyal -> Occasional at D2 (recency 132 days, RFM still
        # Loyal Customers: recency score 3); At Risk at D3 (224 days, score 2).
        ("B", "Loyal Customers", "Loyal", 1, "classified", 1, D1, D1, D2, "False"),
        ("B", "Loyal Customers", "Occasional", 1, "classified", 1, D2, D2, D3, "False"),
        ("B", "At Risk", "Occasional", 1, "classified", 2, D3, D3, None, "False"),
        # C: one big purchase on 2025-02-01 (28, 120, 212 days before the dates); VIP until it
        # is older than 180 days.
        ("C", "Potential Loyalists", "VIP", 2, "classified", 1, D1, D1, D2, "False"),
        ("C", "Need Attention", "VIP", 2, "classified", 1, D2, D2, D3, "False"),
        ("C", "At Risk", "Lapsed high value", 2, "classified", 2, D3, D3, None, "False"),
        # D: one small purchase on 2025-01-10 (50, 142, 234 days).
        ("D", "Promising", "One-time buyer", 2, "classified", 1, D1, D1, D2, "False"),
        ("D", "About to Sleep", "One-time buyer", 2, "classified", 1, D2, D2, D3, "False"),
        ("D", "Hibernating", "One-time buyer", 2, "classified", 2, D3, D3, None, "False"),
        # E leaves the input at D2 (deletion row dated D2, not the wall clock) and returns at D3.
        ("E", "No Purchases", "Never purchased", None, "unclassified", 1, D1, D1, D2, "False"),
        ("E", "No Purchases", "Never purchased", None, "unclassified", 1, D1, D2, D3, "True"),
        ("E", "No Purchases", "Never purchased", None, "unclassified", 2, D3, D3, None, "False"),
        # F is not known at D1 (signed up later): first row at D2 (31 days after its purchase).
        ("F", "Potential Loyalists", "One-time buyer", 2, "classified", 1, D2, D2, D3, "False"),
        ("F", "Need Attention", "One-time buyer", 2, "classified", 2, D3, D3, None, "False"),
    ]
    assert [tuple(row) for row in rows.itertuples(index=False)] == expected
    names = tiny_history.query("select cluster_id, cluster_model_version, cluster_name from customer_segments_snapshot")
    classified = names[names["cluster_id"].notna()]
    assert classified["cluster_name"].notna().all()
    assert names.loc[names["cluster_id"].isna(), "cluster_name"].isna().all()
    assert (classified.groupby(["cluster_id", "cluster_model_version"])["cluster_name"].nunique() == 1).all()


def test_size_history_counts_customers_shares_and_revenue_per_date(tiny_history):
    sizes = tiny_history.query("""
        select cast(as_of_date as varchar) as as_of_date, segment, customers, share, revenue
        from segment_size_history where segmentation_type = 'business'
        order by as_of_date, segment""")
    expected = [
        (D1, "Loyal", 2, 2 / 5, 6 * 40 + 5 * 40), (D1, "Never purchased", 1, 1 / 5, 0),
        (D1, "One-time buyer", 1, 1 / 5, 30), (D1, "VIP", 1, 1 / 5, 1500),
        (D2, "Loyal", 1, 1 / 5, 9 * 40), (D2, "Occasional", 1, 1 / 5, 200),
        (D2, "One-time buyer", 2, 2 / 5, 30 + 60), (D2, "VIP", 1, 1 / 5, 1500),
        (D3, "Lapsed high value", 1, 1 / 6, 1500), (D3, "Loyal", 1, 1 / 6, 12 * 40),
        (D3, "Never purchased", 1, 1 / 6, 0), (D3, "Occasional", 1, 1 / 6, 200),
        (D3, "One-time buyer", 2, 2 / 6, 90),
    ]
    assert len(sizes) == len(expected)
    for row, (as_of_date, segment, customers, share, revenue) in zip(sizes.itertuples(index=False), expected):
        assert (row.as_of_date, row.segment, row.customers) == (as_of_date, segment, customers)
        assert row.share == pytest.approx(share) and row.revenue == pytest.approx(revenue)

    totals = tiny_history.query("""
        select cast(as_of_date as varchar) as as_of_date, segmentation_type, sum(customers) as customers,
               sum(share) as share, sum(revenue_share) as revenue_share
        from segment_size_history group by 1, 2""")
    assert set(totals.groupby("as_of_date")["customers"].max().items()) == {(D1, 5), (D2, 5), (D3, 6)}
    assert (totals.groupby("as_of_date")["customers"].nunique() == 1).all()
    assert totals["share"].to_numpy() == pytest.approx(1.0)
    assert totals["revenue_share"].to_numpy() == pytest.approx(1.0)
    clusters = tiny_history.query("""
        select cast(as_of_date as varchar) as as_of_date, segment, customers, cluster_model_version
        from segment_size_history where segmentation_type = 'cluster' order by 1, 2""")
    assert [tuple(row) for row in clusters.itertuples(index=False)] == [
        (D1, "1", 2, 1), (D1, "2", 2, 1), (D1, "unclassified", 1, 1),
        (D2, "1", 2, 1), (D2, "2", 3, 1),
        (D3, "1", 2, 2), (D3, "2", 3, 2), (D3, "unclassified", 1, 2)]  # the retrain kept both ids


def test_transitions_count_who_moved_where_and_why(tiny_history):
    transitions = tiny_history.query("""
        select cast(as_of_date as varchar) as as_of_date, cast(previous_as_of_date as varchar) as previous,
               segmentation_type, from_segment, to_segment, transition_type, move_cause, customers
        from segment_transitions order by 1, 3, 4, 5, has_orders_since_previous""")
    transitions = transitions.astype(object).where(transitions.notna(), None)
    assert set(zip(transitions["as_of_date"], transitions["previous"])) == {(D2, D1), (D3, D2)}
    business = transitions[transitions["segmentation_type"] == "business"].drop(
        columns=["previous", "segmentation_type"])
    assert [tuple(row) for row in business.itertuples(index=False)] == [
        (D2, "Loyal", "Loyal", "stayed", None, 1),                         # A
        (D2, "Loyal", "Occasional", "moved", "time", 1),                   # B stopped buying: no order since D1
        (D2, "Never purchased", "left", "left", None, 1),                  # E left the input
        (D2, "One-time buyer", "One-time buyer", "stayed", None, 1),       # D
        (D2, "VIP", "VIP", "stayed", None, 1),                             # C
        (D2, "new customer", "One-time buyer", "new customer", None, 1),   # F
        (D3, "Loyal", "Loyal", "stayed", None, 1),
        (D3, "Occasional", "Occasional", "stayed", None, 1),
        (D3, "One-time buyer", "One-time buyer", "stayed", None, 2),
        (D3, "VIP", "Lapsed high value", "moved", "time", 1),              # C: last purchase too old
        (D3, "returned", "Never purchased", "returned", None, 1),          # E is back
    ]
    by_cause = (transitions.groupby(["as_of_date", "segmentation_type", "transition_type"], dropna=False)
                .agg(customers=("customers", "sum"), causes=("move_cause", lambda s: sorted(set(s) - {None}))))
    # Scored by one model from D1 to D2: no cluster moved. D3 is a retrain on the same structure:
    # both ids are matched by members, so nobody moved (before member matching, all 5 did).
    assert by_cause.loc[(D2, "cluster", "stayed"), "customers"] == 4
    assert by_cause.loc[(D2, "cluster", "new customer"), "customers"] == 1
    assert by_cause.loc[(D2, "cluster", "left"), "customers"] == 1
    assert (D2, "cluster", "moved") not in by_cause.index
    assert by_cause.loc[(D3, "cluster", "stayed"), "customers"] == 5
    assert (D3, "cluster", "moved") not in by_cause.index
    assert by_cause.loc[(D3, "cluster", "returned"), "customers"] == 1
    # only A bought between the dates: the one customer with has_orders_since_previous
    own = tiny_history.query("""select cast(as_of_date as varchar) as as_of_date, sum(customers) as customers
                                from segment_transitions where has_orders_since_previous
                                and segmentation_type = 'rfm' and from_segment <> 'new customer'
                                group by 1 order by 1""")
    assert [tuple(row) for row in own.itertuples(index=False)] == [(D2, 1), (D3, 1)]
    # RFM: nobody but A bought, so every RFM move is time passing (recency crossing an edge).
    rfm_moves = transitions[(transitions["segmentation_type"] == "rfm") & (transitions["transition_type"] == "moved")]
    moves = rfm_moves[["as_of_date", "from_segment", "to_segment", "move_cause"]]
    assert [tuple(row) for row in moves.itertuples(index=False)] \
        == [(D2, "Potential Loyalists", "Need Attention", "time"), (D2, "Promising", "About to Sleep", "time"),
            (D3, "About to Sleep", "Hibernating", "time"), (D3, "Loyal Customers", "At Risk", "time"),
            (D3, "Need Attention", "At Risk", "time"), (D3, "Potential Loyalists", "Need Attention", "time")]
    # Sankey consistency: what leaves a segment at D2 is its size at D1.
    out_of = transitions[transitions["as_of_date"] == D2].groupby(
        ["segmentation_type", "from_segment"])["customers"].sum()
    sizes = tiny_history.query(f"""select segmentation_type, segment, customers from segment_size_history
                                   where as_of_date = '{D1}'""").set_index(
        ["segmentation_type", "segment"])["customers"]
    assert out_of.drop(index="new customer", level=1).sort_index().to_dict() == sizes.sort_index().to_dict()


def test_rebuilding_a_date_replaces_it_and_an_earlier_date_is_refused(tiny_history):
    def counts():
        return tuple(tiny_history.scalar(f"select count(*) from {table}")
                     for table in ("customer_segments_snapshot", "segment_size_history", "segment_transitions"))

    before = counts()
    everyone = tiny_history.customers
    tiny_history.dbt(*SNAPSHOT_AND_HISTORY, vars=_step_vars(D3, everyone, tiny_history.orders, "train"),
                     expect_success=True)
    assert counts() == before
    assert tiny_history.scalar("select count(*) from cluster_models") == 2  # unchanged data: no retrain

    result = tiny_history.dbt(*SNAPSHOT_AND_HISTORY, vars=_step_vars(D2, everyone, tiny_history.orders, "score"))
    assert not result.success
    message = tiny_history.messages(result)
    assert f"already holds the as-of date {D3}, later than this build's as_of_date {D2}" in message
    assert "History is built in date order" in message
    assert counts() == before


# --- drift tests ---------------------------------------------------------------------------

def test_drift_tests_warn_when_a_segment_doubles_and_stay_quiet_without_drift(project_copy, tmp_path):
    """Ten customers: Loyal 3, VIP 2, One-time buyer 2, Never purchased 3. Two of the
    never-purchased then buy once, so One-time buyer doubles (0.2 -> 0.4) and Never purchased
    drops (0.3 -> 0.1): share change 0.2, PSI 0.2 ln 2 + 0.2 ln 3 = 0.358, churn 2/10."""
    signups = {f"L{i}": "2024-09-01" for i in (1, 2, 3)} | {f"V{i}": "2024-12-01" for i in (1, 2)} \
        | {f"O{i}": "2024-12-01" for i in (1, 2)} | {f"N{i}": "2024-10-01" for i in (1, 2, 3)}
    customers = _write_customers(tmp_path / "customers.csv", signups)
    base = [(f"L{i}", f"{month}-1{i}", "40.00") for i in (1, 2, 3)
            for month in ("2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02")]
    base += [("V1", "2025-02-01", "1200.00"), ("V2", "2025-02-02", "1300.00"),
             ("O1", "2025-01-05", "50.00"), ("O2", "2025-01-06", "55.00")]
    orders = _write_orders(tmp_path / "orders.csv", base)
    more_orders = _write_orders(tmp_path / "orders_more.csv",
                                base + [("N1", "2025-03-03", "20.00"), ("N2", "2025-03-03", "25.00")])
    thresholds = {"segment_max_share": 0.35, "segment_max_share_change": 0.1, "segment_max_psi": 0.1,
                  "segment_max_churn": {"rfm": 0.6, "business": 0.15, "cluster": 0.25}}
    audit = "main_dbt_test__audit"

    def build(as_of_date, orders_file, mode="score"):
        result = project_copy.dbt(*SNAPSHOT_AND_HISTORY, "--store-failures", expect_success=True,
                                  vars=_step_vars(as_of_date, customers, orders_file, mode, **thresholds))
        return _statuses(result)

    def business_out_of_bounds():
        rows = project_copy.query(f"""select segment, share from {audit}.segment_size_history_share_within_bounds
                                      where segmentation_type = 'business'""")
        return dict(zip(rows["segment"], rows["share"]))

    # First build: nothing to compare, quiet - the share bounds too (a first build's shares are
    # what it found, not a drift). The same date again: still nothing to compare.
    for _ in range(2):
        statuses = build("2025-03-01", orders, "train")
        assert {name: statuses[name] for name in DRIFT_TESTS} == dict.fromkeys(DRIFT_TESTS, "pass")
        assert business_out_of_bounds() == {}
    assert project_copy.scalar("select count(*) from segment_size_history") == \
        project_copy.scalar("select count(*) from "
                            "(select distinct segmentation_type, segment from segment_size_history)")

    # A day later with no new data: every customer keeps their segments, quiet.
    statuses = build("2025-03-02", orders)
    assert {name: statuses[name] for name in CHANGE_TESTS} == dict.fromkeys(CHANGE_TESTS, "pass")
    assert business_out_of_bounds() == {}
    assert project_copy.scalar("""select count(*) from segment_transitions
                                  where as_of_date = '2025-03-02' and transition_type <> 'stayed'""") == 0

    # N1 and N2 buy once: One-time buyer doubles. Every drift test warns, on the right rows.
    statuses = build("2025-03-03", more_orders)
    drift = CHANGE_TESTS[:3] + ("segment_size_history_share_within_bounds",)
    assert {name: statuses[name] for name in drift} == dict.fromkeys(drift, "warn")
    assert business_out_of_bounds() == {"One-time buyer": pytest.approx(0.4)}
    change = project_copy.query(f"""select segment, previous_share, share
                                    from {audit}.segment_size_history_share_change_below_max
                                    where segmentation_type = 'business' order by segment""")
    assert list(change["segment"]) == ["Never purchased", "One-time buyer"]
    assert list(change["previous_share"]) == pytest.approx([0.3, 0.2])
    assert list(change["share"]) == pytest.approx([0.1, 0.4])
    psi = project_copy.scalar(f"""select population_stability_index from {audit}.segment_size_history_psi_below_max
                                  where segmentation_type = 'business'""")
    assert psi == pytest.approx(0.2 * math.log(2) + 0.2 * math.log(3))
    churn = project_copy.query(f"select * from {audit}.segment_transitions_business_churn_below_max")
    assert (churn.loc[0, "customers_moved"], churn.loc[0, "customers_at_both_dates"]) == (2, 10)
    assert churn.loc[0, "membership_churn"] == pytest.approx(0.2)


def test_drift_test_arguments_are_validated(project_copy):
    result = project_copy.dbt("build", "--select", "segment_size_history_psi_below_max",
                              vars={"segment_max_psi": "high"})
    assert not result.success
    # on-run-start type-checks every var first, naming it (the test macro checks its own
    # arguments too, for values passed to it directly).
    assert 'var segment_max_psi must be a number, got: "high"' in project_copy.messages(result)


# --- replay --------------------------------------------------------------------------------

def _load_replay():
    spec = importlib.util.spec_from_file_location("replay", PROJECT_DIR / "scripts" / "replay.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_month_starts_are_firsts_of_months_in_order():
    replay = _load_replay()
    assert replay.month_starts("2024-11-15", "2025-02-01") == [dt.date(2024, 12, 1), dt.date(2025, 1, 1),
                                                               dt.date(2025, 2, 1)]
    assert replay.month_starts("2025-01-01", "2025-01-01") == [dt.date(2025, 1, 1)]
    with pytest.raises(ValueError, match="first date must be written YYYY-MM-DD, got '2025-13-01'"):
        replay.month_starts("2025-13-01", "2025-12-01")
    with pytest.raises(ValueError, match="is after the last date"):
        replay.month_starts("2025-02-01", "2025-01-01")
    with pytest.raises(ValueError, match="no first of a month"):
        replay.month_starts("2025-01-02", "2025-01-31")
    with pytest.raises(ValueError, match="clustering must be one of"):
        replay.replay([dt.date(2025, 1, 1)], clustering="retrain")
    with pytest.raises(ValueError, match="strictly increasing"):
        replay.replay([dt.date(2025, 2, 1), dt.date(2025, 1, 1)])


def test_replay_fills_the_history_month_by_month_with_one_model(project_copy, tmp_path):
    replay = _load_replay()
    everyone = _write_customers(tmp_path / "customers.csv", CUSTOMERS)
    orders = _write_orders(tmp_path / "orders.csv", _orders())
    dates = replay.month_starts("2025-06-01", "2025-08-01")
    lines: list[str] = []
    env = {"SEGMENTATION_DUCKDB_PATH": str(project_copy.database), "DBT_PROFILES_DIR": str(project_copy.project_dir),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "SEGMENTATION_THREADS": "2"}
    options = dict(project_dir=project_copy.project_dir, target_path=tmp_path / "target", echo=lines.append,
                   base_vars={"orders_input": {"file": str(orders)}, "customers_input": {"file": str(everyone)},
                              **TINY_CLUSTERING})
    with _environment(env):
        try:
            outcome = replay.replay(dates, **options)
            # Replaying earlier months onto this history is refused before anything is built.
            with pytest.raises(replay.DbtStepError, match="already holds the as-of date 2025-08-01"):
                replay.replay(replay.month_starts("2025-05-01", "2025-06-01"), **options)
        finally:
            _release_duckdb()
    assert outcome["dates"] == dates and len(outcome["step_seconds"]) == 3
    history_dates = project_copy.query(
        "select distinct cast(as_of_date as varchar) as d from segment_size_history order by 1")
    assert list(history_dates["d"]) == ["2025-06-01", "2025-07-01", "2025-08-01"]
    # One model, trained at the last date, scored every month: no move is a retrain - each is
    # the customer's own orders (behaviour) or time passing (time).
    assert project_copy.scalar("select count(*) from cluster_models") == 1
    assert project_copy.scalar("select count(distinct cluster_model_version) from customer_segments_snapshot") == 1
    causes = project_copy.query("select distinct move_cause from segment_transitions where move_cause is not null")
    assert set(causes["move_cause"]) <= {"behaviour", "time"}
    # a 'behaviour' move is exactly a customer with an order since the previous date
    assert project_copy.scalar("""select count(*) from segment_transitions
                                  where (move_cause = 'behaviour') <> has_orders_since_previous
                                  and transition_type = 'moved'""") == 0
    assert any(line.startswith("2025-08-01  built") for line in lines)
    assert any(line.startswith("history tests at 2025-08-01") for line in lines)
    test_names = {name for name, _, _ in outcome["test_results"]}
    assert set(DRIFT_TESTS) <= test_names
    assert all(status.lower() in ("pass", "warn") for _, status, _ in outcome["test_results"]), outcome["test_results"]
