{#-
    Run at the start of every invocation (on-run-start), before any model is written:
      1. a var passed on the command line that this project does not know is almost always a
         typo (`n_cluster: 3`), which dbt would otherwise ignore silently: fail with the list
         of known vars instead;
      2. every var has the type it must have (a number, one of a few words, a list of names,
         a mapping): every wrong one is named in one message, so no value of the wrong type
         ever reaches SQL (numbers are pasted into tests, so a text there could run SQL);
      3. the vars with their own validating macro (inputs, names, dates) are checked by it.
    Text values (segment names, statuses, prefixes, formats) are data: they reach SQL only
    through quote_literal. Names reach it through quote_identifier or checked_name.
-#}
{% macro validate_vars() %}
    {#- Installed as a package, the command-line vars are mostly the host project's own:
        they cannot be told from typos, so the check only runs when this project is the root. -#}
    {%- if project_name != 'customer_segmentation' -%}{{ return('') }}{%- endif -%}
    {%- set known = [
        'orders_input', 'customers_input', 'as_of_date', 'rfm_bins', 'business_segment_fallback',
        'business_rule_numeric_columns', 'business_rule_text_columns', 'age_band_edges',
        'rfm_no_purchase_segment', 'clustering_mode', 'retrain_after_days', 'retrain_max_customer_change',
        'clustering_input', 'cluster_features',
        'cluster_optional_features', 'cluster_categorical_features', 'cluster_log_features',
        'cluster_clip_quantiles', 'cluster_scaler', 'cluster_categorical_weight',
        'cluster_categorical_max_levels', 'cluster_null_strategy', 'cluster_k_min', 'cluster_k_max',
        'n_clusters', 'cluster_n_init', 'cluster_max_iter', 'random_state', 'training_sample_size',
        'silhouette_sample_size', 'tree_max_depth', 'tree_min_samples_leaf', 'stability_bootstraps',
        'new_cluster_max_distance', 'cluster_min_relative_spread', 'cluster_name_recent_max_days',
        'cluster_name_lapsed_min_days', 'cluster_name_new_max_days',
        'cluster_name_long_standing_min_days', 'cluster_match_min_overlap',
        'rfm_recency_method', 'rfm_frequency_method', 'rfm_monetary_method',
        'rfm_recency_edges_days', 'rfm_frequency_edges', 'rfm_monetary_edges', 'min_cluster_share', 'min_tree_fidelity',
        'cluster_algorithm', 'cluster_gmm_covariance_type', 'cluster_gmm_n_init',
        'cluster_kprototypes_gamma', 'cluster_birch_threshold', 'cluster_hdbscan_min_cluster_size',
        'cluster_hdbscan_min_samples', 'cluster_meanshift_bandwidth', 'cluster_meanshift_quantile',
        'cluster_slow_method_sample_size', 'cluster_comparison_enabled', 'cluster_comparison_algorithms',
        'cluster_comparison_sample_size', 'cluster_comparison_bootstraps',
        'cluster_comparison_max_noise_share',
        'drift_test_severity', 'segment_min_share', 'segment_max_share', 'segment_max_share_change',
        'segment_max_psi', 'segment_max_churn', 'demo_data', 'min_order_date', 'max_excluded_line_share',
        'incremental_lookback_days',
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
    {%- do _validate_var_types() -%}
    {%- do input_settings('orders') -%}
    {%- do input_settings('customers') -%}
    {%- do clustering_input_settings() -%}
    {%- do as_of_date_literal() -%}
    {%- do min_order_date_literal() -%}
    {%- do incremental_lookback_days() -%}
    {%- do rfm_bins() -%}
    {%- do business_rule_columns('numeric') -%}
    {%- do business_rule_columns('text') -%}
    {%- do age_band('age') -%}
    {%- set subsets = {'cluster_optional_features': clustering_feature_columns('all'),
                       'cluster_log_features': clustering_feature_columns('numeric')} -%}
    {%- for name, allowed in subsets.items() -%}
        {%- set outside = (var(name) or []) | reject('in', allowed) | list -%}
        {%- if outside -%}
            {{ exceptions.raise_compiler_error("var " ~ name ~ " must list features of "
                ~ ('cluster_features / cluster_categorical_features' if name == 'cluster_optional_features' else 'cluster_features')
                ~ "; not one: " ~ (outside | tojson)) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{#- The kind of every var that is not checked by a macro of its own; all wrong ones at once. -#}
{% macro _validate_var_types() %}
    {%- set methods = ['kmeans', 'kprototypes', 'gmm', 'agglomerative', 'birch', 'hdbscan', 'meanshift'] -%}
    {%- set kinds = {
        'business_segment_fallback': 'text', 'rfm_no_purchase_segment': 'text',
        'clustering_mode': ['train', 'score'], 'retrain_after_days': 'whole number',
        'retrain_max_customer_change': 'number or null', 'cluster_scaler': ['standard', 'robust', 'minmax'],
        'cluster_null_strategy': ['unclassified', 'impute_median'], 'drift_test_severity': ['warn', 'error'],
        'cluster_optional_features': 'names', 'cluster_log_features': 'names',
        'cluster_clip_quantiles': 'numbers or null', 'segment_max_churn': 'mapping of numbers',
        'n_clusters': 'number or null', 'cluster_categorical_weight': 'number',
        'cluster_categorical_max_levels': 'number', 'cluster_k_min': 'number', 'cluster_k_max': 'number',
        'cluster_n_init': 'number', 'cluster_max_iter': 'number', 'random_state': 'number',
        'training_sample_size': 'number', 'silhouette_sample_size': 'number', 'tree_max_depth': 'number',
        'tree_min_samples_leaf': 'number', 'stability_bootstraps': 'number',
        'new_cluster_max_distance': 'number', 'min_cluster_share': 'number', 'min_tree_fidelity': 'number',
        'segment_min_share': 'number', 'segment_max_share': 'number', 'segment_max_share_change': 'number',
        'segment_max_psi': 'number', 'max_excluded_line_share': 'number',
        'incremental_lookback_days': 'number',
        'clv_mode': ['train', 'score'], 'clv_purchase_model': ['bgnbd', 'pareto_nbd'],
        'clv_time_unit': ['days', 'weeks'], 'clv_horizons_days': 'numbers or null',
        'clv_churn_risk_edges': 'numbers or null', 'clv_annual_discount_rate': 'number',
        'clv_training_sample_size': 'number', 'clv_min_training_customers': 'number',
        'clv_penalizer_coef': 'number', 'clv_fallback_penalizer_coef': 'number',
        'clv_max_frequency_monetary_correlation': 'number',
        'cluster_min_relative_spread': 'number', 'cluster_name_recent_max_days': 'number',
        'cluster_name_lapsed_min_days': 'number', 'cluster_name_new_max_days': 'number',
        'cluster_name_long_standing_min_days': 'number', 'cluster_match_min_overlap': 'number',
        'rfm_recency_method': ['quantiles', 'edges'], 'rfm_frequency_method': ['quantiles', 'edges'],
        'rfm_monetary_method': ['quantiles', 'edges'], 'rfm_recency_edges_days': 'numbers or null',
        'rfm_frequency_edges': 'numbers or null', 'rfm_monetary_edges': 'numbers or null',
        'demo_data': 'boolean or null',
        'cluster_algorithm': methods,
        'cluster_gmm_covariance_type': ['full', 'tied', 'diag', 'spherical'], 'cluster_gmm_n_init': 'number',
        'cluster_kprototypes_gamma': 'number or null', 'cluster_birch_threshold': 'number',
        'cluster_hdbscan_min_cluster_size': 'number or null', 'cluster_hdbscan_min_samples': 'number or null',
        'cluster_meanshift_bandwidth': 'number or null', 'cluster_meanshift_quantile': 'number',
        'cluster_slow_method_sample_size': 'number', 'cluster_comparison_enabled': 'boolean',
        'cluster_comparison_algorithms': 'methods or null', 'cluster_comparison_sample_size': 'number',
        'cluster_comparison_bootstraps': 'number', 'cluster_comparison_max_noise_share': 'number',
    } -%}
    {%- set wrong = [] -%}
    {%- for name, kind in kinds.items() -%}
        {%- set value = var(name, none) -%}
        {%- set is_number = value is number and value is not boolean -%}
        {%- if kind == 'text' -%}
            {%- set ok = value is string and (value | trim | length) > 0 -%}
        {%- elif kind is not string -%}
            {%- set ok = value in kind -%}
            {%- set kind = 'one of ' ~ (kind | join(', ')) -%}
        {%- elif kind == 'names' -%}
            {%- set ok = value is none or (value is not string and value is not mapping and value is iterable
                          and (value | reject('string') | list | length) == 0) -%}
            {%- set kind = 'a list of column names' -%}
        {%- elif kind == 'numbers or null' -%}
            {%- set ok = value is none or (value is not string and value is not mapping and value is iterable
                          and (value | reject('number') | list | length) == 0
                          and (value | select('boolean') | list | length) == 0) -%}
            {%- set kind = 'a list of numbers or null' -%}
        {%- elif kind == 'mapping of numbers' -%}
            {%- set ok = value is mapping and (value.values() | reject('number') | list | length) == 0 -%}
            {%- set kind = 'a mapping of numbers' -%}
        {%- elif kind == 'methods or null' -%}
            {%- set ok = value is none or (value is not string and value is not mapping and value is iterable
                          and (value | reject('in', methods) | list | length) == 0) -%}
            {%- set kind = 'null or a list of: ' ~ (methods | join(', ')) -%}
        {%- elif kind == 'boolean' -%}
            {%- set ok = value is boolean -%}
            {%- set kind = 'true or false' -%}
        {%- elif kind == 'boolean or null' -%}
            {%- set ok = value is none or value is boolean -%}
            {%- set kind = 'true, false or null' -%}
        {%- elif kind == 'whole number' -%}
            {%- set ok = is_number and value >= 0 and value == (value | int) -%}
            {%- set kind = 'a whole number, 0 or more' -%}
        {%- elif kind == 'number or null' -%}
            {%- set ok = value is none or is_number -%}
            {%- set kind = 'a number or null' -%}
        {%- else -%}
            {%- set ok = is_number -%}
            {%- set kind = 'a number' -%}
        {%- endif -%}
        {%- if not ok -%}{%- do wrong.append("var " ~ name ~ " must be " ~ kind ~ ", got: " ~ (value | tojson)) -%}{%- endif -%}
    {%- endfor -%}
    {%- if wrong -%}
        {{ exceptions.raise_compiler_error(wrong | join('; ') ~ '.') }}
    {%- endif -%}
{% endmacro %}
