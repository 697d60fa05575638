{#-
    Run at the start of every invocation (on-run-start): a var passed on the command line
    that this project does not know is almost always a typo (`n_cluster: 3`), which dbt would
    otherwise ignore silently. Fail with the list of known vars instead.
-#}
{% macro validate_vars() %}
    {%- set known = [
        'orders_input', 'customers_input', 'as_of_date', 'rfm_bins', 'business_segment_fallback',
        'business_rule_numeric_columns', 'business_rule_text_columns', 'age_band_edges',
        'rfm_no_purchase_segment', 'clustering_mode', 'clustering_input', 'cluster_features',
        'cluster_optional_features', 'cluster_categorical_features', 'cluster_log_features',
        'cluster_clip_quantiles', 'cluster_scaler', 'cluster_categorical_weight',
        'cluster_categorical_max_levels', 'cluster_null_strategy', 'cluster_k_min', 'cluster_k_max',
        'n_clusters', 'cluster_n_init', 'cluster_max_iter', 'random_state', 'training_sample_size',
        'silhouette_sample_size', 'tree_max_depth', 'tree_min_samples_leaf', 'stability_bootstraps',
        'new_cluster_max_distance', 'min_cluster_share', 'min_tree_fidelity',
        'cluster_algorithm', 'cluster_gmm_covariance_type', 'cluster_gmm_n_init',
        'cluster_kprototypes_gamma', 'cluster_birch_threshold', 'cluster_hdbscan_min_cluster_size',
        'cluster_hdbscan_min_samples', 'cluster_meanshift_bandwidth', 'cluster_meanshift_quantile',
        'cluster_slow_method_sample_size', 'cluster_comparison_enabled', 'cluster_comparison_algorithms',
        'cluster_comparison_sample_size', 'cluster_comparison_bootstraps',
        'cluster_comparison_max_noise_share',
        'drift_test_severity', 'segment_min_share', 'segment_max_share', 'segment_max_share_change',
        'segment_max_psi', 'segment_max_churn',
        'clv_mode', 'clv_purchase_model', 'clv_time_unit', 'clv_horizons_days',
        'clv_annual_discount_rate', 'clv_churn_risk_edges', 'clv_training_sample_size',
        'clv_min_training_customers', 'clv_penalizer_coef', 'clv_fallback_penalizer_coef', 'clv_max_frequency_monetary_correlation',
    ] + (var('extra_known_vars', []) or []) -%}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is string -%}{%- set given = fromyaml(given) or {} -%}{%- endif -%}
    {%- set unknown = [] -%}
    {%- for name in given if name not in known -%}{%- do unknown.append(name) -%}{%- endfor -%}
    {%- if unknown -%}
        {{ exceptions.raise_compiler_error("Unknown var(s): " ~ (unknown | join(', ')) ~ ". This project's vars are: " ~ (known | sort | join(', ')) ~ ". (A var of your own: list it in var extra_known_vars.)") }}
    {%- endif -%}
{% endmacro %}
