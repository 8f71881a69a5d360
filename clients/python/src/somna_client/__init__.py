"""``somna-client``: the Python SDK of the Somna sleep and recovery data platform.

from somna_client import Somna

with Somna("http://127.0.0.1:8000", api_key="somna_live_...") as client:
    for night in client.sleep.list(user_id, start_date="2026-03-01"):
        print(night.local_date, night.asleep_seconds)
"""

from somna_client import models
from somna_client._client import AsyncSomna, Somna
from somna_client._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SigningSecretRequired,
    SomnaError,
    UnprocessableEntityError,
    WaitTimeoutError,
)
from somna_client._pagination import AsyncPage, AsyncPaginator, SyncPage
from somna_client._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncSomna",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SigningSecretRequired",
    "Somna",
    "SomnaError",
    "SyncPage",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "__version__",
    "models",
]
