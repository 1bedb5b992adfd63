"""Async client for the ClinicalTrials.gov API v2: single and batched lookups of NCT ids.

Lookups are cached, throttled to the registry's courtesy limit and retried on 429, 5xx and
network errors. Every failure ends as a ``Lookup`` with status ``"unverified"``, never as an
exception, because a registry outage must not break a clinic report.

One client serves many concurrent checks (a batch, the service), and the courtesy limit (50
requests a minute) is what bounds a batch in real use: so the ids every caller cites wait in one
queue, and each request the limit allows asks for all the ids waiting then, whichever site cited
them. An id already asked for is not asked again while its answer is on the way.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from itertools import islice
from typing import Any, Self

import anyio
import httpx

from app.settings import Settings, get_settings
from app.verify.models import Lookup, TrialRecord, parse_study, study_aliases
from app.verify.throttle import Clock, Sleep, TokenBucket, TTLCache, parse_retry_after

# Only the parts the verdict reads, to keep responses small.
_FIELDS = ",".join(
    [
        "protocolSection.identificationModule",
        "protocolSection.statusModule",
        "protocolSection.sponsorCollaboratorsModule",
        "protocolSection.oversightModule",
        "protocolSection.conditionsModule",
        "protocolSection.armsInterventionsModule",
        "protocolSection.contactsLocationsModule",
        "protocolSection.descriptionModule",
        "hasResults",
    ]
)
_NCT_LIKE = re.compile(r"NCT\d{1,12}")
_WELL_FORMED = re.compile(r"NCT\d{8}")
_ID_IN_URL = re.compile(r"NCT\d+", re.IGNORECASE)
_BACKOFF_BASE = 1.0  # seconds before the second try when the server gives no Retry-After
_STOPPED = "the look-up was stopped before ClinicalTrials.gov answered"


def normalise_nct_id(text: str) -> str | None:
    """``"nct 0123-4567"`` → ``"NCT01234567"``; ``None`` when the text is no NCT number at all.

    Ids with the wrong number of digits are kept: the registry is the authority on what is
    malformed, and answers 400 for them.
    """
    compact = re.sub(r"[\s\-_]", "", text).upper()
    return compact if _NCT_LIKE.fullmatch(compact) else None


class _Unavailable(Exception):
    """No usable answer after all tries; ``detail`` says why, for the report."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RegistryClient:
    """ClinicalTrials.gov client around one ``httpx.AsyncClient``.

    Pass ``http`` to share an existing client (it is not closed here), or use
    ``async with RegistryClient(settings) as client`` to own one for the block.
    ``clock`` and ``sleep`` drive the cache, rate limit and backoff; ``wall_clock`` (epoch
    seconds) is what HTTP-date ``Retry-After`` values are measured against. The requests run as
    asyncio tasks of the client, so a caller that gives up (a site's time runs out) does not
    take other callers' answers with it.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        http: httpx.AsyncClient | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
        wall_clock: Clock = time.time,
    ) -> None:
        self._settings = settings or get_settings()
        self._base = self._settings.registry_base_url.rstrip("/")
        self._http = http
        self._owns_http = False
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._cache: TTLCache[Lookup] = TTLCache(self._settings.registry_cache_ttl, clock=clock)
        self._bucket = TokenBucket(
            self._settings.registry_requests_per_minute,
            self._settings.registry_burst,
            clock=clock,
            sleep=sleep,
        )
        # Every id asked for and not yet answered, shared by all the callers that cite it.
        self._pending: dict[str, asyncio.Future[Lookup]] = {}
        # Ids waiting for a request, in the order they were cited; False for an NCT-like id of
        # the wrong length, which is asked for by itself (the registry answers 400 for it).
        self._queued: dict[str, bool] = {}
        self._sender: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=self._settings.registry_timeout,
                headers={"User-Agent": self._settings.user_agent, "Accept": "application/json"},
                follow_redirects=False,  # a 301 means "old alias": handled, and recorded, here
            )
            self._owns_http = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        tasks = [*self._requests, *([self._sender] if self._sender else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for nct_id, future in self._pending.items():  # queued, never sent
            future.set_result(_unverified(nct_id, _STOPPED))
        self._pending.clear()
        self._queued.clear()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None
            self._owns_http = False

    async def lookup(self, nct_id: str) -> Lookup:
        """Look up one cited id."""
        return (await self.lookup_many([nct_id]))[0]

    async def lookup_many(self, ids: Sequence[str]) -> list[Lookup]:
        """One ``Lookup`` per distinct cited id, in first-seen order.

        Well-formed ids not in the cache are asked for together through the list endpoint, with
        the ids other callers are waiting for; ids the list did not return are then asked for
        one by one, which tells a missing study (404) from an old alias (301). An id that is the
        only one waiting when a request may go is asked for by itself, for the same reason.
        """
        results: dict[str, Lookup] = {}
        waiting: dict[str, asyncio.Future[Lookup]] = {}
        for raw in ids:
            nct_id = normalise_nct_id(raw)
            key = nct_id or raw.strip()
            if key in results or key in waiting:
                continue
            if nct_id is None:
                results[key] = Lookup(
                    nct_id=key,
                    status="invalid",
                    detail=f"“{key}” is not a ClinicalTrials.gov number (NCT and 8 digits).",
                )
            elif cached := self._cache.get(nct_id):
                results[key] = cached
            else:
                waiting[key] = self._ask(nct_id)
        if waiting:
            # asyncio.wait, unlike awaiting the futures, leaves them alone if this caller is
            # cancelled: other callers may be waiting for the same answers.
            await asyncio.wait(waiting.values())
            results.update((key, future.result()) for key, future in waiting.items())

        order = dict.fromkeys(normalise_nct_id(raw) or raw.strip() for raw in ids)
        return [results[key] for key in order]

    def _ask(self, nct_id: str) -> asyncio.Future[Lookup]:
        """The future answer for ``nct_id``: the one already on its way, or a new one queued."""
        if (future := self._pending.get(nct_id)) is not None:
            return future
        future = asyncio.get_running_loop().create_future()
        self._pending[nct_id] = future
        self._queued[nct_id] = _WELL_FORMED.fullmatch(nct_id) is not None
        if self._sender is None:
            self._sender = asyncio.create_task(self._send())
        return future

    async def _send(self) -> None:
        """Take a token, then ask for what is waiting at that moment; until nothing waits.

        While the courtesy limit makes it wait, more ids arrive: they share the next request.
        """
        try:
            while self._queued:
                await self._bucket.acquire()
                oldest, together = next(iter(self._queued.items()))
                chunk = [oldest]
                if together:  # the well-formed ids waiting, the longest waiting first
                    ids = (nct_id for nct_id, ok in self._queued.items() if ok)
                    chunk = list(islice(ids, self._settings.registry_batch_size))
                for nct_id in chunk:
                    del self._queued[nct_id]
                task = asyncio.create_task(self._answer(chunk))
                self._requests.add(task)
                task.add_done_callback(self._requests.discard)
        finally:
            self._sender = None

    async def _answer(self, chunk: list[str]) -> None:
        """Ask for ``chunk`` with the token ``_send`` took, and hand every caller its answer."""
        found: dict[str, Lookup] = {}
        try:
            if len(chunk) == 1:
                found[chunk[0]] = await self._fetch_one(chunk[0], paid=True)
            else:
                found = await self._lookup_batch(chunk)
        except asyncio.CancelledError:
            found = {nct_id: _unverified(nct_id, _STOPPED) for nct_id in chunk}
            raise
        except Exception as exc:  # a bug: each caller sees it, as it would without sharing
            for nct_id in chunk:
                self._pending.pop(nct_id).set_exception(exc)
        finally:
            for nct_id, lookup in found.items():
                if lookup.status != "unverified":  # a failure is worth asking about again
                    self._cache.put(nct_id, lookup)
                self._pending.pop(nct_id).set_result(lookup)

    async def _lookup_batch(self, chunk: list[str]) -> dict[str, Lookup]:
        """The list request for ``chunk`` (its first try paid for), then the ids it left out."""
        try:
            found = await self._fetch_batch(chunk)
        except _Unavailable as exc:
            return {nct_id: _unverified(nct_id, exc.detail) for nct_id in chunk}
        results = {nct_id: _verified(nct_id, record) for nct_id, record in found.items()}
        for nct_id in chunk:
            if nct_id not in results:
                results[nct_id] = await self._fetch_one(nct_id)
        return results

    async def _fetch_batch(self, chunk: list[str]) -> dict[str, TrialRecord]:
        """Records the list endpoint returns, keyed by the cited id (an alias counts). The first
        page's token was taken by ``_send``; further pages take their own."""
        wanted = set(chunk)
        params = {"filter.ids": ",".join(chunk), "fields": _FIELDS, "pageSize": str(len(chunk))}
        found: dict[str, TrialRecord] = {}
        # Every page holds at least one study, so len(chunk) pages is the most a sane server
        # sends; the bound stops a server that hands out page tokens forever.
        for page_number in range(len(chunk)):
            url = f"{self._base}/api/v2/studies"
            response = await self._get(url, params, paid=page_number == 0)
            if response.status_code != 200:
                return found  # the ids left out are asked for one by one
            try:
                page = _json_object(response)
                for study in page.get("studies") or []:
                    record = parse_study(study)
                    for cited in (record.nct_id, *study_aliases(study)):
                        cited = cited.upper()
                        if cited in wanted and cited not in found:
                            alias = cited if cited != record.nct_id else None
                            found[cited] = record.model_copy(update={"alias_of": alias})
            except (ValueError, AttributeError):
                return found
            token = page.get("nextPageToken")
            if not token:
                break
            params = {**params, "pageToken": str(token)}
        return found

    async def _fetch_one(self, nct_id: str, *, paid: bool = False) -> Lookup:
        try:
            url = f"{self._base}/api/v2/studies/{nct_id}"
            response = await self._get(url, {"fields": _FIELDS}, paid=paid)
            if response.is_redirect:
                # Only the id is taken from Location: the request stays on the configured
                # registry host whatever the header says.
                found = _ID_IN_URL.findall(response.headers.get("Location", ""))
                target = found[-1].upper() if found else None
                if target is None or target == nct_id:
                    return _unverified(nct_id, "ClinicalTrials.gov redirected the request oddly")
                response = await self._get(
                    f"{self._base}/api/v2/studies/{target}", {"fields": _FIELDS}
                )
        except _Unavailable as exc:
            return _unverified(nct_id, exc.detail)

        if response.status_code == 404:
            return Lookup(
                nct_id=nct_id,
                status="not_found",
                record=TrialRecord(nct_id=nct_id, exists=False),
                detail=f"ClinicalTrials.gov has no study {nct_id}.",
            )
        if response.status_code == 400:
            return Lookup(
                nct_id=nct_id,
                status="invalid",
                detail=f"ClinicalTrials.gov rejects {nct_id} as a malformed NCT number.",
            )
        if response.status_code != 200:
            return _unverified(
                nct_id,
                f"ClinicalTrials.gov gave an unexpected answer (HTTP {response.status_code})",
            )
        try:
            record = parse_study(_json_object(response))
        except ValueError:
            return _unverified(
                nct_id, "ClinicalTrials.gov sent a study record that could not be read"
            )
        # Also covers a shared client that follows redirects itself: the body names the new id.
        alias = nct_id if record.nct_id != nct_id else None
        return _verified(nct_id, record.model_copy(update={"alias_of": alias}))

    async def _get(self, url: str, params: dict[str, str], *, paid: bool = False) -> httpx.Response:
        """The first response not worth retrying; ``_Unavailable`` when the tries run out.

        ``paid``: the first try's token was taken already (by ``_send``).
        """
        if self._http is None:
            raise RuntimeError("use `async with RegistryClient(...)` or pass an httpx.AsyncClient")
        tries = self._settings.registry_max_tries
        cap = self._settings.registry_max_retry_wait
        detail = "ClinicalTrials.gov could not be reached"
        for attempt in range(1, tries + 1):
            backoff = min(cap, _BACKOFF_BASE * 2 ** (attempt - 1))
            if attempt > 1 or not paid:
                await self._bucket.acquire()
            try:
                response = await self._http.get(url, params=params)
            except httpx.RequestError as exc:
                detail = f"ClinicalTrials.gov could not be reached ({type(exc).__name__})"
                wait = backoff
            else:
                if response.status_code == 429:
                    asked = parse_retry_after(
                        response.headers.get("Retry-After"), now=self._wall_clock()
                    )
                    if asked is not None and asked > cap:
                        # Retrying early would only earn another 429: give up politely.
                        raise _Unavailable(
                            f"ClinicalTrials.gov asked us to wait {asked:.0f} s before asking again"
                        )
                    detail = "ClinicalTrials.gov kept answering “too many requests” (429)"
                    wait = backoff if asked is None else asked
                elif response.status_code >= 500:
                    detail = f"ClinicalTrials.gov had a server error (HTTP {response.status_code})"
                    wait = backoff
                else:
                    return response
            if attempt < tries:
                await self._sleep(wait)
        raise _Unavailable(f"{detail} after {tries} tries")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _verified(nct_id: str, record: TrialRecord) -> Lookup:
    return Lookup(
        nct_id=nct_id,
        status="verified",
        record=record,
        detail=f"ClinicalTrials.gov lists {nct_id}.",
    )


def _unverified(nct_id: str, detail: str) -> Lookup:
    return Lookup(nct_id=nct_id, status="unverified", detail=f"{detail}.")
