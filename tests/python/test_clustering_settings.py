"""ClusteringSettings: defaults, validation messages, hashing."""

from __future__ import annotations

import json
import re

import pytest

from segmentation.clustering import ClusteringSettings


def test_defaults_match_the_documented_values():
    s = ClusteringSettings.from_mapping({})
    assert s.features == ("recency_days", "frequency", "monetary", "tenure_days", "age")
    assert s.optional_features == ("age",)
    assert s.log_features == ("frequency", "monetary")
    assert s.categorical_features == ()
    assert s.clip_quantiles == (0.01, 0.99)
    assert (s.scaler, s.null_strategy) == ("standard", "unclassified")
    assert (s.categorical_weight, s.categorical_max_levels) == (1.0, 10)
    assert (s.k_min, s.k_max, s.n_clusters) == (2, 10, None)
    assert (s.n_init, s.random_state, s.max_iter) == (10, 42, 300)
    assert (s.training_sample_size, s.silhouette_sample_size) == (50000, 5000)
    assert (s.tree_max_depth, s.tree_min_samples_leaf, s.stability_bootstraps) == (4, 20, 5)
    assert s.new_cluster_max_distance == 1.0
    assert ClusteringSettings.from_mapping(None) == s == ClusteringSettings()


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"n_clusters": 0}, "n_clusters must be an integer >= 2 or null, got 0"),
        ({"n_clusters": 2.5}, "n_clusters must be an integer >= 2 or null, got 2.5"),
        ({"scaler": "zscore"},
         "scaler (var cluster_scaler) must be one of 'minmax', 'robust', 'standard', got 'zscore'"),
        ({"null_strategy": "drop"},
         "null_strategy (var cluster_null_strategy) must be one of 'impute_median', 'unclassified', got 'drop'"),
        ({"k_min": 1}, "k_min (var cluster_k_min) must be an integer >= 2, got 1"),
        ({"k_min": 5, "k_max": 4},
         "k_max (var cluster_k_max) must be an integer >= k_min (var cluster_k_min) (5), got 4"),
        ({"n_init": True}, "n_init (var cluster_n_init) must be an integer >= 1, got True"),
        ({"clip_quantiles": [0.9, 0.1]},
         "clip_quantiles (var cluster_clip_quantiles) must be null or a pair [lower, upper] "
         "with 0 <= lower < upper <= 1, got [0.9, 0.1]"),
        ({"categorical_weight": 0},
         "categorical_weight (var cluster_categorical_weight) must be a finite number > 0, got 0"),
        ({"stability_bootstraps": -1}, "stability_bootstraps must be an integer >= 0, got -1"),
        ({"features": "monetary"}, "features (var cluster_features) must be a list of column names, got 'monetary'"),
        ({"features": ["a", "a"]}, "features (var cluster_features) must not repeat a column, got 'a' twice"),
        ({"features": ["a"], "categorical_features": ["a"]},
         "features (var cluster_features) and categorical_features (var cluster_categorical_features) "
         "must be disjoint, got both: a"),
        ({"features": ["a"], "log_features": ["b"]},
         "log_features (var cluster_log_features) must be a subset of features (var cluster_features), "
         "got 'b'; features are: a"),
        ({"min_relative_spread": -0.1},
         "min_relative_spread (var cluster_min_relative_spread) must be a finite number >= 0, got -0.1"),
        ({"recent_max_days": 200, "lapsed_min_days": 100},
         "lapsed_min_days (var cluster_name_lapsed_min_days) must be >= recent_max_days "
         "(var cluster_name_recent_max_days) (200), got 100"),
        ({"match_min_overlap": 1.5},
         "match_min_overlap (var cluster_match_min_overlap) must be a number > 0 and <= 1, got 1.5"),
        ({"features": [], "categorical_features": []},
         "features (var cluster_features) and categorical_features (var cluster_categorical_features) "
         "are both empty; at least one feature is required"),
    ],
)
def test_out_of_range_values_name_key_value_and_allowed(mapping, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ClusteringSettings.from_mapping(mapping)


def test_unknown_key_lists_allowed_keys():
    with pytest.raises(ValueError) as info:
        ClusteringSettings.from_mapping({"n_cluster": 3, "k_max": 5})
    text = str(info.value)
    assert text.startswith("unknown setting(s) 'n_cluster'; allowed keys are: features, ")
    for key in ClusteringSettings.allowed_keys():
        assert key in text


def test_direct_construction_validates_too():
    with pytest.raises(ValueError, match="tree_max_depth must be an integer between 1 and 30, got 0"):
        ClusteringSettings(tree_max_depth=0)


def test_default_log_and_optional_features_follow_the_configured_features():
    s = ClusteringSettings.from_mapping({"features": ["monetary", "x"]})
    assert s.log_features == ("monetary",)
    assert s.optional_features == ()
    s = ClusteringSettings.from_mapping({"features": ["x"], "categorical_features": ["age"]})
    assert s.optional_features == ("age",) and s.log_features == ()


def test_to_dict_round_trips_and_config_hash_is_stable():
    s = ClusteringSettings.from_mapping({"k_max": 6, "categorical_features": ["gender"]})
    d = s.to_dict()
    assert d["features"] == list(s.features) and isinstance(d["clip_quantiles"], list)
    assert ClusteringSettings.from_mapping(json.loads(json.dumps(d))) == s
    assert s.to_json() == json.dumps(d, sort_keys=True, separators=(",", ":"))
    h = s.config_hash()
    assert re.fullmatch(r"[0-9a-f]{16}", h)
    assert ClusteringSettings.from_mapping(dict(reversed(list(d.items())))).config_hash() == h
    assert ClusteringSettings.from_mapping({**d, "k_max": 7}).config_hash() != h


def test_settings_are_immutable():
    s = ClusteringSettings()
    with pytest.raises(AttributeError):
        s.k_max = 3  # type: ignore[misc]


def test_every_setting_is_set_by_the_var_messages_name():
    """The vars the dbt config passes in are exactly the ones the messages name."""
    from pathlib import Path

    from segmentation.clustering.settings import VAR_NAMES

    text = (Path(__file__).resolve().parents[2] / "python_models/clustering/_clustering__models.yml").read_text()
    # The clustering settings of cluster_models (the comparison's own settings follow them).
    text = text.split("clustering_settings: >-", 1)[1].split("}) }}", 1)[0]
    passed = dict(re.findall(r"'(\w+)': var\('(\w+)'\)", text))
    passed.pop("clustering_mode")
    assert passed == VAR_NAMES
    assert set(VAR_NAMES) == set(ClusteringSettings.allowed_keys())
