"""Run dbt Python models on a local (open-source) Spark, in dbt's own process.

dbt-spark submits Python models only to Databricks (``all_purpose_cluster`` /
``job_cluster``); with ``method: session`` it has no way to run one (dbt-spark issue #415).
This module adds the missing piece, a submission method named ``session``: the compiled
model code (the model file plus dbt's generated ``dbtObj``/write code) is executed with
``exec`` against the SparkSession that dbt-spark's ``session`` connection already runs in
this process. Nothing leaves the process, so it is for local Spark only; on Databricks use
dbt-databricks and its own submission methods (README "Running on a bigger warehouse").

It is registered by :func:`register` (the test harness calls it; ``make spark`` installs
``segmentation_spark_session.pth``, which calls :func:`install_import_hook` at interpreter
start so a plain ``dbt`` command registers it when dbt-spark is first imported).
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

SUBMISSION_METHOD = "session"
_ADAPTER_MODULE = "dbt.adapters.spark.impl"


class SessionPythonJobHelper:
    """dbt PythonJobHelper that runs the compiled model code in the active SparkSession."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        name = self.parsed_model.get("unique_id", "python model")
        namespace = {"spark": spark, "__name__": f"dbt_python_model.{self.parsed_model.get('name', 'model')}"}
        # dbt's own compiled model
        exec(compile(compiled_code, f"<{name}>", "exec"), namespace)
        return None


def register() -> None:
    """Add the ``session`` submission method to dbt-spark, the default with ``method: session``.

    Also points Spark's Python workers (``mapInPandas`` in the models' scoring) at this
    interpreter, where the project's packages are installed, unless PYSPARK_PYTHON is set.
    """
    from dbt.adapters.spark.impl import SparkAdapter

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    if getattr(SparkAdapter, "_segmentation_session_submit", False):
        return
    helpers = SparkAdapter.python_submission_helpers.fget
    default_method = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self):
        return {**helpers(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    def default_python_submission_method(self):
        method = str(getattr(self.config.credentials, "method", "")).lower()
        return SUBMISSION_METHOD if method.endswith("session") else default_method(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._segmentation_session_submit = True


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    """Calls :func:`register` right after dbt-spark's adapter module is first imported."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _ADAPTER_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            register()

        spec.loader.exec_module = exec_module
        return spec


def install_import_hook() -> None:
    """Register lazily: nothing is imported until dbt imports dbt-spark."""
    if _ADAPTER_MODULE in sys.modules:
        register()
    elif not any(isinstance(finder, _RegisterAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())
