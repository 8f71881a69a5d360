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


def columns_of(parser: Any) -> list[str]:
    """The fields of the model a page's items are parsed into (``Model.model_validate``), so
    that an empty list still gives a frame with its columns."""
    owner = getattr(parser, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, BaseModel):
        return list(owner.model_fields)
    return []


def to_pandas(items: Sequence[Any], columns: Sequence[str] = ()) -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependency(
            'to_pandas() needs pandas: pip install "somna-client[pandas]"'
        ) from exc
    if not items:
        return pd.DataFrame(columns=list(columns))
    frame = pd.DataFrame.from_records(rows(items))
    # Nullable dtypes, so that a column of seconds with gaps stays integer (Int64), not float.
    return frame.convert_dtypes()


def to_polars(items: Sequence[Any], columns: Sequence[str] = ()) -> Any:
    try:
        import polars as pl
    except ImportError as exc:
        raise MissingDependency(
            'to_polars() needs polars: pip install "somna-client[polars]"'
        ) from exc
    if not items:
        return pl.DataFrame(schema=list(columns))
    return pl.from_dicts(rows(items), infer_schema_length=None)
