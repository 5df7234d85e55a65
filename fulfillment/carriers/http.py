"""HTTP for carrier adapters: timeouts, bounded retries on 429/5xx, faults as errors."""

import logging
import time

import requests

from .base import CarrierRefused, CarrierUnavailable

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = (5, 20)  # connect, read
MAX_WAIT_SECONDS = 2.0  # never hold a warehouse page longer than this per retry


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def request(
    method, url, *, carrier: str, retry_server_errors: bool, attempts=3, answers=(), **kwargs
):
    """Send one request, retrying 429 (always: the carrier refused it unprocessed) and,
    when ``retry_server_errors``, 5xx and network faults (only for calls that are safe to
    repeat: reads). Returns the response of a 2xx or of a status in ``answers`` (a
    refusal the caller reads itself); raises otherwise."""
    kwargs.setdefault("timeout", TIMEOUT_SECONDS)
    last_error = ""
    retry_after = None
    for attempt in range(1, attempts + 1):
        try:
            response = requests.request(method, url, **kwargs)
        except requests.ConnectionError as exc:
            last_error = f"{carrier} is unreachable ({type(exc).__name__})."
            if not retry_server_errors or attempt == attempts:
                raise CarrierUnavailable(last_error)
            time.sleep(0.2 * attempt)
            continue
        except requests.Timeout:
            raise CarrierUnavailable(f"{carrier} did not answer in time.")
        if response.status_code == 429:
            retry_after = _retry_after(response)
            last_error = f"{carrier} is rate limiting us (429)."
            if attempt < attempts:
                time.sleep(min(retry_after if retry_after is not None else 0.5, MAX_WAIT_SECONDS))
                continue
            raise CarrierUnavailable(last_error, retry_after=retry_after)
        if response.status_code >= 500:
            last_error = f"{carrier} answered {response.status_code}."
            if retry_server_errors and attempt < attempts:
                time.sleep(0.2 * attempt)
                continue
            raise CarrierUnavailable(last_error + " Try again in a moment.")
        if response.status_code >= 400 and response.status_code not in answers:
            raise CarrierRefused(
                f"{carrier} refused the request ({response.status_code}).",
                fields={"carrier": [response.text[:300]]},
            )
        return response
    raise CarrierUnavailable(last_error or f"{carrier} is unavailable.", retry_after=retry_after)
