"""Fit and score the buy-till-you-die models with the `lifetimes` library.

The purchase process is BG/NBD (Fader, Hardie and Lee 2005) or Pareto/NBD (Schmittlein,
Morrison and Colombo 1987); spend per purchase is Gamma-Gamma (Fader, Hardie and Lee 2005,
"RFM and CLV"), fitted on repeat customers only. All likelihoods, fits and closed forms
come from `lifetimes`; this module chooses the sample, stores the parameters, scores every
customer vectorised and discounts the expected revenue.

The input frame is the dbt model ``int_customers_clv_inputs``: one row per customer with
``customer_id``, ``has_purchases``, ``frequency``, ``recency``, ``t``, ``monetary_value``
(time in the unit of var ``clv_time_unit``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from segmentation.clv.settings import ClvSettings

with warnings.catch_warnings():
    # lifetimes 0.11.3 sets pandas' removed option mode.chained_assignment on import
    # (no effect on pandas 3, only a deprecation warning); nothing else is patched.
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import ConvergenceError

INPUT_COLUMNS = ("customer_id", "has_purchases", "frequency", "recency", "t", "monetary_value")
PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pareto_nbd": ("r", "alpha", "s", "beta")}
SPEND_PARAMS = ("p", "q", "v")
#: Days per discounting step of the CLV: expected purchases are counted per 30-day step and
#: each step is discounted at its end (as lifetimes' customer_lifetime_value does per month).
DISCOUNT_STEP_DAYS = 30
REGISTRY_COLUMNS = (
    "model_version", "model_id", "trained_at", "fingerprint", "purchase_model", "time_unit",
    "as_of_date", "n_customers", "n_purchasers", "n_training_sample", "n_repeat_customers",
    "param_r", "param_alpha", "param_a", "param_b", "param_s", "param_beta",
    "purchase_log_likelihood", "purchase_penalizer_coef", "spend_p", "spend_q", "spend_v", "spend_log_likelihood",
    "spend_penalizer_coef", "frequency_monetary_correlation", "is_spend_independent", "settings_json", "notes_json",
    # issue 13: why this fit was made (the retrain schedule's reason, segmentation.retrain).
    "retrain_reason",
)
REGISTRY_DTYPES = {
    "model_version": "int64", "model_id": "str", "trained_at": "str", "fingerprint": "str",
    "purchase_model": "str", "time_unit": "str", "as_of_date": "datetime64[us]", "n_customers": "int64",
    "n_purchasers": "int64", "n_training_sample": "int64", "n_repeat_customers": "int64",
    "is_spend_independent": "boolean", "settings_json": "str", "notes_json": "str",
    "retrain_reason": "str",
}
UNSCORED_NO_PURCHASE = "no purchase before the as-of date"
NOTE_SINGLE_DAY = "single purchase day: expected order value is the Gamma-Gamma population mean"


class FitDidNotConverge(ValueError):
    """A fit did not converge at either penalty (the message names the vars)."""


def check_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    """The input with its columns checked and typed, sorted by customer id.

    Raises
    ------
    ValueError
        If a column is missing, a customer id repeats, or a purchaser's values are
        impossible (negative, recency after t, frequency not whole).
    """
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"CLV input lacks column(s) {missing}; it has {list(frame.columns)}")
    data = frame.loc[:, list(INPUT_COLUMNS)].copy()
    if data["customer_id"].isna().any() or data["customer_id"].duplicated().any():
        raise ValueError("CLV input: customer_id must be unique and not null")
    data["customer_id"] = data["customer_id"].astype(str)
    data["has_purchases"] = data["has_purchases"].fillna(False).astype(bool)
    for name in ("frequency", "recency", "t", "monetary_value"):
        data[name] = pd.to_numeric(data[name], errors="raise").astype("float64")
    buyers = data[data["has_purchases"]]
    bad = buyers[(buyers[["frequency", "recency", "t"]].isna().any(axis=1))
                 | (buyers["frequency"] < 0) | (buyers["recency"] < 0)
                 | (buyers["recency"] > buyers["t"]) | (buyers["frequency"] % 1 != 0)
                 | ((buyers["frequency"] > 0) & ~(buyers["monetary_value"] > 0))]
    if len(bad):
        raise ValueError(f"CLV input: {len(bad)} customer(s) with impossible values, "
                         f"for example {bad.iloc[0].to_dict()}")
    return data.sort_values("customer_id", kind="mergesort").reset_index(drop=True)


def training_sample(data: pd.DataFrame, settings: ClvSettings) -> pd.DataFrame:
    """Purchasers, at most ``settings.training_sample_size`` of them (fixed-seed sample)."""
    buyers = data[data["has_purchases"]]
    if len(buyers) > settings.training_sample_size:
        buyers = buyers.sample(n=settings.training_sample_size, random_state=settings.random_state)
        buyers = buyers.sort_values("customer_id", kind="mergesort")
    return buyers.reset_index(drop=True)


def fingerprint(data: pd.DataFrame, settings: ClvSettings) -> str:
    """sha256 of the fit settings and the rows (sorted by customer id) that a fit would see."""
    rows = check_inputs(data)
    hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy(dtype=np.uint64)
    digest = hashlib.sha256(settings.fit_json().encode("utf-8"))
    digest.update(str(len(rows)).encode("utf-8"))
    digest.update(np.ascontiguousarray(hashes).tobytes())
    return digest.hexdigest()


def fit_status(data: pd.DataFrame, settings: ClvSettings) -> str | None:
    """Why no model can be fitted on this input, or None when one can."""
    return counts_fit_status(int(data["has_purchases"].sum()), int((data["frequency"] > 0).sum()), settings)


def counts_fit_status(n_buyers: int, n_repeat: int, settings: ClvSettings) -> str | None:
    """:func:`fit_status` from the counts alone: customers with purchases, and those with
    ``frequency > 0`` (on Spark the engine counts them over the whole input)."""
    if n_buyers < settings.min_training_customers:
        return (f"no CLV model: {n_buyers} customer(s) with purchases, fewer than var "
                f"clv_min_training_customers ({settings.min_training_customers})")
    if n_repeat == 0:
        return "no CLV model: no customer bought on more than one day"
    return None


def fit_models(data: pd.DataFrame, settings: ClvSettings) -> dict[str, Any]:
    """Fit the purchase model on the training sample and Gamma-Gamma on its repeat buyers.

    Returns
    -------
    dict
        The registry columns from ``purchase_model`` to ``notes_json`` (no version or time).

    Raises
    ------
    ValueError
        When the input cannot carry a model (see :func:`fit_status`) or a fit does not
        converge (the message suggests var clv_penalizer_coef).
    """
    data = check_inputs(data)
    reason = fit_status(data, settings)
    if reason is not None:
        raise ValueError(reason)
    sample = training_sample(data, settings)
    notes: list[str] = []
    f, r, t = (sample[c].to_numpy() for c in ("frequency", "recency", "t"))
    fitter_class = BetaGeoFitter if settings.purchase_model == "bgnbd" else ParetoNBDFitter
    purchase, purchase_penalizer = _fit_with_fallback(
        fitter_class, (f, r, t), settings, f"the {settings.purchase_model} fit", len(sample), notes)
    params = {name: float(purchase.params_[name]) for name in PURCHASE_PARAMS[settings.purchase_model]}
    row: dict[str, Any] = {
        "purchase_model": settings.purchase_model,
        "time_unit": settings.time_unit,
        "n_customers": int(len(data)),
        "n_purchasers": int(data["has_purchases"].sum()),
        "n_training_sample": int(len(sample)),
        **{f"param_{name}": params.get(name) for name in ("r", "alpha", "a", "b", "s", "beta")},
        "purchase_log_likelihood": purchase_log_likelihood(settings.purchase_model, params, f, r, t),
        "purchase_penalizer_coef": purchase_penalizer,
    }
    repeat = sample[sample["frequency"] > 0]
    row["n_repeat_customers"] = int(len(repeat))
    spend = {name: None for name in SPEND_PARAMS}
    spend_ll = correlation = spend_penalizer = None
    if len(repeat) < settings.min_training_customers:
        notes.append(f"no Gamma-Gamma spend model: {len(repeat)} repeat customer(s), fewer than var "
                     f"clv_min_training_customers ({settings.min_training_customers}); no order value or CLV")
    else:
        x, m = repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy()
        correlation = float(np.corrcoef(x, m)[0, 1]) if np.std(x) > 0 and np.std(m) > 0 else 0.0
        gamma_gamma, spend_penalizer = _fit_with_fallback(
            GammaGammaFitter, (x, m), settings, "the Gamma-Gamma fit", len(repeat), notes)
        spend = {name: float(gamma_gamma.params_[name]) for name in SPEND_PARAMS}
        spend_ll = spend_log_likelihood(spend, x, m)
        if spend["q"] <= 1:
            notes.append("Gamma-Gamma q <= 1: the population mean order value is not finite, so "
                         "customers with a single purchase day get no order value or CLV")
        if abs(correlation) > settings.max_frequency_monetary_correlation:
            notes.append(f"Gamma-Gamma assumes spend independent of frequency, but their correlation "
                         f"among repeat customers is {correlation:.3f} (|corr| above var "
                         f"clv_max_frequency_monetary_correlation = "
                         f"{settings.max_frequency_monetary_correlation}): read order values with care")
    row.update({
        "spend_p": spend["p"], "spend_q": spend["q"], "spend_v": spend["v"],
        "spend_log_likelihood": spend_ll,
        "spend_penalizer_coef": spend_penalizer,
        "frequency_monetary_correlation": correlation,
        "is_spend_independent": (None if correlation is None
                                 else abs(correlation) <= settings.max_frequency_monetary_correlation),
        "settings_json": settings.to_json(),
        "notes_json": json.dumps(notes),
    })
    return row


def _fit_with_fallback(fitter_class, data: tuple, settings: ClvSettings, what: str, n: int,
                       notes: list[str]):
    """Fit at var clv_penalizer_coef; if that does not converge, once more at var
    clv_fallback_penalizer_coef (when set and larger), with a note. Returns (fitter, penalizer)."""
    penalizers = [settings.penalizer_coef]
    fallback = settings.fallback_penalizer_coef
    if fallback is not None and fallback > settings.penalizer_coef:
        penalizers.append(fallback)
    for attempt, penalizer in enumerate(penalizers):
        fitter = fitter_class(penalizer_coef=penalizer)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                fitter.fit(*data)
        except ConvergenceError as error:
            if attempt + 1 < len(penalizers):
                notes.append(f"{what} did not converge at var clv_penalizer_coef = {penalizer} "
                             f"(often a maximum at the edge of the parameter space); refitted at var "
                             f"clv_fallback_penalizer_coef = {penalizers[-1]}")
                continue
            raise FitDidNotConverge(f"{what} did not converge on {n} customers at penalizer {penalizer}; set var "
                             "clv_penalizer_coef or clv_fallback_penalizer_coef (e.g. 0.001): "
                             f"{str(error).strip().splitlines()[0][:200]}") from error
        return fitter, float(penalizer)
    raise AssertionError("unreachable")


def purchase_log_likelihood(model: str, params: Mapping[str, float], frequency: np.ndarray,
                            recency: np.ndarray, t: np.ndarray) -> float:
    """Total log-likelihood of the sample at these parameters (lifetimes' own likelihood).

    lifetimes reports only a scaled, averaged value, so its likelihood function is called
    again on the unscaled data.
    """
    if model == "bgnbd":
        values = [params[k] for k in PURCHASE_PARAMS["bgnbd"]]
        mean_nll = BetaGeoFitter._negative_log_likelihood(
            np.log(values), frequency, recency, t, np.ones(len(t)), 0.0)
        return float(-mean_nll * len(t))
    values = [params[k] for k in PURCHASE_PARAMS["pareto_nbd"]]
    return float(ParetoNBDFitter._conditional_log_likelihood(values, frequency, recency, t).sum())


def spend_log_likelihood(params: Mapping[str, float], frequency: np.ndarray, monetary: np.ndarray) -> float:
    """Total Gamma-Gamma log-likelihood (lifetimes' own likelihood, unaveraged)."""
    values = [params[k] for k in SPEND_PARAMS]
    mean_nll = GammaGammaFitter._negative_log_likelihood(
        np.log(values), frequency, monetary, np.ones(len(frequency)), 0.0)
    return float(-mean_nll * len(frequency))


def registry_row(data: pd.DataFrame, settings: ClvSettings, previous: Mapping[str, Any] | None,
                 as_of_date: Any = None, trained_at: str | None = None,
                 digest: str | None = None) -> dict[str, Any]:
    """A new registry row: the fit, its version (previous + 1), id and fingerprint.

    ``digest``: the input's fingerprint when ``data`` is only a sample of it (Spark, see
    segmentation.clv.dbt.clv_input); default :func:`fingerprint` of ``data``.
    """
    version = 1 if previous is None else int(previous["model_version"]) + 1
    digest = digest or fingerprint(data, settings)
    trained_at = trained_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    row = {"model_version": version, "model_id": f"clv-v{version}-{digest[:12]}",
           "trained_at": trained_at, "fingerprint": digest, "as_of_date": as_of_date,
           **fit_models(data, settings)}
    return {name: row.get(name) for name in REGISTRY_COLUMNS}


def _fitter(row: Mapping[str, Any]):
    model = row["purchase_model"]
    fitter = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
    fitter.params_ = pd.Series({name: float(row[f"param_{name}"]) for name in PURCHASE_PARAMS[model]})
    return fitter


def _spend_fitter(row: Mapping[str, Any]):
    if row.get("spend_p") is None or _missing(row.get("spend_p")):
        return None
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({name: float(row[f"spend_{name}"]) for name in SPEND_PARAMS})
    return fitter


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def prediction_columns(settings: ClvSettings) -> list[str]:
    """The columns of customer_predictions, in order."""
    horizons = settings.horizons_days
    return (["customer_id", "model_version", "prediction_status", "unscored_reason", "prediction_note",
             "probability_alive", "churn_risk_band"]
            + [f"expected_purchases_{h}" for h in horizons]
            + ["expected_avg_order_value"]
            + [f"predicted_clv_{h}" for h in horizons]
            + ["frequency", "recency", "t", "time_unit"])


def score_customers(data: pd.DataFrame, row: Mapping[str, Any] | None, settings: ClvSettings,
                    no_model_reason: str | None = None) -> pd.DataFrame:
    """Every customer of the input, scored vectorised with the stored model ``row``.

    Customers without a purchase get null predictions and ``prediction_status`` 'unscored'
    with the reason; with no model at all (``row`` None) every customer is unscored with
    ``no_model_reason``. Nobody is dropped.

    Raises
    ------
    ValueError
        If the stored model was fitted in another time unit than var clv_time_unit.
    """
    n = len(data)
    out = pd.DataFrame({"customer_id": data["customer_id"].to_numpy()})
    columns = prediction_columns(settings)
    nan = np.full(n, np.nan)
    values: dict[str, Any] = {name: nan.copy() for name in columns[5:] if name not in ("churn_risk_band", "time_unit")}
    status = np.where(data["has_purchases"].to_numpy(), "scored", "unscored").astype(object)
    reason = np.where(data["has_purchases"].to_numpy(), None, UNSCORED_NO_PURCHASE).astype(object)
    note = np.full(n, None, dtype=object)
    band = np.full(n, None, dtype=object)
    version = None
    if row is None:
        status[:] = "unscored"
        reason[:] = no_model_reason or "no CLV model"
    else:
        if row["time_unit"] != settings.time_unit:
            raise ValueError(f"the stored CLV model v{int(row['model_version'])} was fitted in "
                             f"{row['time_unit']} but var clv_time_unit is {settings.time_unit!r}: "
                             "train again (clv_mode: train) or set the unit back")
        version = int(row["model_version"])
        scored = data["has_purchases"].to_numpy()
        f, r, t = (data.loc[scored, c].to_numpy() for c in ("frequency", "recency", "t"))
        # The BG/NBD figures depend on (frequency, recency, t) alone, and customers share
        # them (1.7M distinct triples among 4.5M buyers at 5M customers): each is computed
        # once per distinct triple and spread back, element for element the same values.
        unique_frt, back = _distinct_triples(f, r, t)
        purchase = _fitter(row)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alive = np.asarray(purchase.conditional_probability_alive(*unique_frt), dtype=float)[back]
            values["probability_alive"][scored] = alive
            low, high = settings.churn_risk_edges
            band[scored] = np.where(alive < low, "high", np.where(alive < high, "medium", "low"))
            expected = {0: np.zeros(len(f))}
            steps = _discount_steps(settings.horizons_days)
            for day in steps:
                expected[day] = np.asarray(purchase.conditional_expected_number_of_purchases_up_to_time(
                    day / settings.days_per_unit, *unique_frt), dtype=float)[back]
            for h in settings.horizons_days:
                values[f"expected_purchases_{h}"][scored] = expected[h]
            spend = _spend_fitter(row)
            if spend is not None:
                m = data.loc[scored, "monetary_value"].to_numpy()
                m = np.where(f > 0, m, 0.0)
                q_ok = float(row["spend_q"]) > 1
                value = np.asarray(spend.conditional_expected_average_profit(f, m), dtype=float)
                value = np.where((f > 0) | q_ok, value, np.nan)
                values["expected_avg_order_value"][scored] = value
                rate = settings.annual_discount_rate
                for h in settings.horizons_days:
                    total = np.zeros(len(f))
                    previous_day = 0
                    for day in [d for d in steps if d <= h]:
                        total += (expected[day] - expected[previous_day]) / (1 + rate) ** (day / 365.0)
                        previous_day = day
                    values[f"predicted_clv_{h}"][scored] = total * value
                note_idx = np.flatnonzero(scored)[f == 0]
                note[note_idx] = NOTE_SINGLE_DAY if q_ok else (
                    "single purchase day and Gamma-Gamma q <= 1: no expected order value or CLV")
            else:
                note[scored] = "no Gamma-Gamma spend model (see clv_models.notes_json): no order value or CLV"
    out["model_version"] = pd.array([version] * n, dtype="Int64")
    out["prediction_status"] = status
    out["unscored_reason"] = reason
    out["prediction_note"] = note
    for name, column in values.items():
        out[name] = column
    out["churn_risk_band"] = band
    out["time_unit"] = settings.time_unit
    # Fixed types, also when every value is missing (a build with no buyers), so the
    # table's column types never depend on the data.
    text = ["customer_id", "prediction_status", "unscored_reason", "prediction_note", "churn_risk_band", "time_unit"]
    out = out.astype({name: ("str" if name in text else "Int64" if name == "model_version" else "float64")
                      for name in columns})
    return out.loc[:, columns]


def _distinct_triples(f: np.ndarray, r: np.ndarray, t: np.ndarray
                      ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The distinct (f, r, t) triples, and for each customer the index of theirs."""
    # Column by column: the codes so far x the next column's codes, factorized again, so
    # every key stays below n x n (a MultiIndex factorize of the three floats took 10 s at
    # 4.5M buyers; this about 1 s).
    index = np.zeros(len(f), dtype=np.int64)
    for column in (f, r, t):
        codes, levels = pd.factorize(column, use_na_sentinel=False)
        index, _ = pd.factorize(index * len(levels) + codes)
    # Every customer with a code has the same triple: take it from any of them.
    representative = np.empty(index.max() + 1 if len(index) else 0, dtype=np.intp)
    representative[index] = np.arange(len(index))
    return (f[representative], r[representative], t[representative]), np.asarray(index, dtype=np.intp)


def _discount_steps(horizons: tuple[int, ...]) -> list[int]:
    """Day marks at which expected purchases are evaluated: every 30 days and each horizon."""
    marks = {h for h in horizons}
    for h in horizons:
        marks.update(range(DISCOUNT_STEP_DAYS, h, DISCOUNT_STEP_DAYS))
    return sorted(marks)


def expected_repeat_purchases(row: Mapping[str, Any], frequency, recency, t, length) -> np.ndarray:
    """Expected purchases of each customer over the next ``length`` time units (vectorised)."""
    with np.errstate(all="ignore"):
        return np.asarray(_fitter(row).conditional_expected_number_of_purchases_up_to_time(
            length, np.asarray(frequency, float), np.asarray(recency, float), np.asarray(t, float)), dtype=float)


def probability_alive_matrix(row: Mapping[str, Any], max_frequency: int, max_t: float, t: float | None = None,
                             n_recency: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability alive over a frequency x recency grid at customer age ``t`` (default max_t).

    Returns
    -------
    frequencies : ndarray, shape (max_frequency + 1,)
    recencies : ndarray, shape (n_recency,)
    matrix : ndarray, shape (max_frequency + 1, n_recency)
    """
    t = max_t if t is None else t
    frequencies = np.arange(max_frequency + 1, dtype=float)
    recencies = np.linspace(0.0, t, n_recency)
    f_grid, r_grid = np.meshgrid(frequencies, recencies, indexing="ij")
    with np.errstate(all="ignore"):
        alive = _fitter(row).conditional_probability_alive(f_grid.ravel(), r_grid.ravel(), np.full(f_grid.size, t))
    return frequencies, recencies, np.asarray(alive, dtype=float).reshape(f_grid.shape)
