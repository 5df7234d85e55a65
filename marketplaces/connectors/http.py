"""HTTP to a marketplace: rate limits, throttling, retries and token refresh in one place.

Every call first takes a token from the connection's shared bucket
(``marketplaces.ratelimit``). A ``429`` blocks the bucket for ``Retry-After`` seconds
(or what the rate header implies) for every worker, and the call waits and tries again,
up to a total wait; a ``5xx``, a timeout or a refused connection is retried twice with a
short backoff and then raised as ``TemporaryError`` (the task retries later, with
backoff); a ``401``/``403`` refreshes the access token once; other ``4xx`` are
``PermanentError``.
"""

import email.utils
import logging
import random
import threading
import time

import orjson
import requests
from django.conf import settings

from .. import ratelimit
from .base import AuthError, PermanentError, RateLimited, TemporaryError

logger = logging.getLogger(__name__)

_local = threading.local()


class _CredentialsFromTheConnection(requests.auth.AuthBase):
    """Every call carries the connection's own credentials (headers or signed
    parameters). As the session's auth it also keeps requests from looking for a
    ~/.netrc entry on every call, which cost a sync worker a twentieth of its time."""

    def __call__(self, request):
        return request


def _session() -> requests.Session:
    """One keep-alive session per thread (requests' sessions are not shared safely)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.auth = _CredentialsFromTheConnection()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=16)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def retry_after_seconds(response, default: float = 1.0) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed is not None:
                return max(parsed.timestamp() - time.time(), 0.0)
    rate = response.headers.get("x-amzn-RateLimit-Limit", "").strip()
    if rate:
        try:
            return 1.0 / max(float(rate), 1e-3)
        except ValueError:
            pass
    return default


class MarketplaceHttp:
    SERVER_ERROR_RETRIES = 2
    MAX_THROTTLE_WAIT_SECONDS = 180.0

    def __init__(self, connection):
        self.connection = connection
        self.timeout = settings.OMS_MARKETPLACE_HTTP_TIMEOUT_SECONDS
        self.throttled = 0
        self.calls = 0
        # Set by the connector: authorize(headers, params, *, refresh: bool).
        self.authorize = None

    def limits(self, operation: str) -> tuple[float, int]:
        custom = (self.connection.options or {}).get("rate_limits", {}).get(operation)
        if custom:
            return float(custom[0]), int(custom[1])
        return self.connection.rate_per_second, self.connection.rate_burst

    def take(self, operation: str, tokens: int = 1) -> None:
        rate, burst = self.limits(operation)
        try:
            ratelimit.acquire(
                self.connection.pk,
                operation,
                rate=rate,
                burst=burst,
                tokens=tokens,
                max_wait_seconds=self.MAX_THROTTLE_WAIT_SECONDS,
            )
        except ratelimit.RateLimitWaitTooLong as exc:
            raise RateLimited(
                f"{operation}: rate limit would hold this worker {exc.wait_seconds:.0f} s",
                retry_after=exc.wait_seconds,
                status=None,
            )

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params=None,
        json_body=None,
        data=None,
        headers=None,
        auth: bool = True,
    ) -> requests.Response:
        refreshed = False
        take_token = True  # not again for the retry after a token refresh
        server_errors = 0
        throttle_waited = 0.0
        rate, burst = self.limits(operation)
        while True:
            if take_token:
                self.take(operation)
            take_token = True
            call_headers = dict(headers or {})
            call_params = dict(params or {}) if params is not None else None
            if auth and self.authorize is not None:
                self.authorize(call_headers, call_params, refresh=refreshed)
            self.calls += 1
            try:
                response = _session().request(
                    method,
                    url,
                    params=call_params,
                    json=json_body,
                    data=data,
                    headers=call_headers,
                    timeout=self.timeout,
                )
            except requests.Timeout as exc:
                error = TemporaryError(
                    f"{operation}: no answer within {self.timeout:.0f} s ({exc})"
                )
            except requests.ConnectionError as exc:
                error = TemporaryError(f"{operation}: marketplace unreachable ({exc})")
            else:
                status = response.status_code
                if status == 429:
                    self.throttled += 1
                    wait = retry_after_seconds(response, default=1.0 / max(rate, 1e-3))
                    ratelimit.block(self.connection.pk, operation, seconds=wait, burst=burst)
                    throttle_waited += wait
                    if throttle_waited > self.MAX_THROTTLE_WAIT_SECONDS:
                        raise RateLimited(
                            f"{operation}: throttled (429) for {throttle_waited:.0f} s",
                            retry_after=wait,
                            body=response.text,
                        )
                    logger.info("%s throttled; waiting %.1f s", operation, wait)
                    continue
                if status >= 500:
                    error = TemporaryError(
                        f"{operation}: marketplace error {status}",
                        status=status,
                        body=response.text,
                    )
                elif status in (401, 403) and auth and not refreshed and self.authorize:
                    refreshed = True
                    take_token = False
                    continue
                elif status in (401, 403):
                    raise AuthError(
                        f"{operation}: credentials refused ({status})",
                        status=status,
                        body=response.text,
                    )
                elif status >= 400:
                    raise PermanentError(
                        f"{operation}: refused with {status}: {response.text[:300]}",
                        status=status,
                        body=response.text,
                    )
                else:
                    return response
            server_errors += 1
            if server_errors > self.SERVER_ERROR_RETRIES:
                raise error
            time.sleep(min(0.25 * 2**server_errors, 2.0) * random.uniform(0.8, 1.2))

    def json(self, method: str, url: str, **kwargs) -> dict:
        response = self.request(method, url, **kwargs)
        if not response.content:
            return {}
        try:
            # orjson: a page of a hundred orders decodes several times faster. It reads
            # UTF-8 only; requests also reads a body in another declared charset.
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
        try:
            return response.json()
        except ValueError:
            raise TemporaryError(
                f"{kwargs.get('operation')}: answer is not JSON", body=response.text
            )
