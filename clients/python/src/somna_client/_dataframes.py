"""Lists of models as DataFrames, for researchers. pandas and polars are optional extras:
``pip install "somna-client[pandas]"`` or ``"somna-client[polars]"``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from somna_client._exceptions import SomnaError


class MissingDependency(SomnaError, ImportError):
    """The optional library a DataFrame needs is not installed."""


def rows(items: Sequence[Any]) -> list[dict[str, Any]]:
    """One flat dict per item, with Python values (datetimes stay datetimes)."""
    return [item.model_dump() if isinstance(item, BaseModel) else dict(item) for item in items]


def to_pandas(items: Sequence[Any]) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependency(
            'to_pandas() needs pandas: pip install "somna-client[pandas]"'
        ) from exc
    frame = pd.DataFrame.from_records(rows(items))
    # Nullable dtypes, so that a column of seconds with gaps stays integer (Int64), not float.
    return frame.convert_dtypes()


def to_polars(items: Sequence[Any]) -> Any:
    try:
        import polars as pl
    except ImportError as exc:
        raise MissingDependency(
            'to_polars() needs polars: pip install "somna-client[polars]"'
        ) from exc
    return pl.from_dicts(rows(items), infer_schema_length=None)
