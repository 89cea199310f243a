"""Posting xAPI statements to a Learning Record Store over HTTP (urllib only), without sending anything twice.

Two guards keep a rerun from duplicating statements:

1. A ledger remembers, per LRS and per session, how many of the session's statements the LRS has accepted
   (SettingsLedger keeps it in the store's settings under `xapi.sent.<endpoint>`). It is updated after every accepted
   batch, so a run that stops half-way resumes after the last accepted batch.
2. Statement ids are deterministic (trainer.export.xapi.statement_id), so a statement posted again anyway (after a crash
   between the LRS's answer and the ledger update, or from another machine with its own ledger) has the id the LRS already
   holds: the LRS drops it (204, or 200 without its id) or refuses it (409), and either way it is counted as already there.

Connection errors, timeouts, 429 and 5xx answers are retried with exponential backoff; since ids are fixed, retrying a POST
that did arrive is harmless. Other 4xx answers stop the run with a one-line LRSError.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trainer.errors import TrainerError

XAPI_VERSION = "1.0.3"
BATCH_SIZE = 50
LEDGER_PREFIX = "xapi.sent."
_SETTING_KEY_MAX = 128  # the settings table's key column


class LRSError(TrainerError):
    """The LRS could not be reached, refused the request, or kept failing. The message names the LRS and what to do."""


class _Conflict(Exception):
    """409 on a batch: the LRS holds at least one of its ids (with other content, by the spec's rule)."""


def endpoint_of(url: str) -> str:
    """The LRS's xAPI endpoint from what a user typed: http(s), no credentials, no trailing '/' or '/statements'."""
    text = url.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LRSError(f"{url}: not an LRS address; give its xAPI endpoint, e.g. https://lrs.example.org/xAPI")
    if parts.username or parts.password:
        raise LRSError(
            f"{parts.hostname}: put the LRS user and password in --lrs-user and --lrs-password (or TRAINER_LRS_PASSWORD), not in the URL"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/statements"):
        path = path[: -len("/statements")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]  # names in lower case

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body.strip() else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would silently become a GET: report the redirect instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LRSClient:
    """The statements resource of one LRS: POST a batch of statements, GET (query) statements."""

    def __init__(
        self,
        url: str,
        user: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        self.endpoint = endpoint_of(url)
        self.user = user
        self._auth = None
        if user is not None:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
            self._auth = f"Basic {token}"
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_delay = max_delay
        self._sleep = sleep
        self._opener = opener or urllib.request.build_opener(_NoRedirect())
        self.requests = 0  # HTTP requests made, retries included

    # --- the statements resource ------------------------------------------------------------------------------------

    def post(self, statements: Sequence[Mapping[str, Any]]) -> list[str]:
        """POST a batch. Returns the ids the LRS says it stored (an empty list when it had them all: 204)."""
        answer = self._call("POST", "/statements", body=list(statements), expect=(200, 204), conflict_ok=True)
        if answer.status == 409:
            raise _Conflict(_detail(answer))
        if answer.status == 204:
            return []
        ids = answer.json()
        return [str(i) for i in ids] if isinstance(ids, list) else []

    def query(self, *, max_pages: int = 1000, **params: Any) -> list[dict[str, Any]]:
        """GET statements matching the xAPI query parameters (registration=..., verb=...), following `more` links."""
        found: list[dict[str, Any]] = []
        answer = self._call("GET", "/statements", params={k: str(v) for k, v in params.items()}, expect=(200,))
        for _ in range(max_pages):
            page = answer.json() or {}
            found += page.get("statements", [])
            more = page.get("more")
            if not more:
                return found
            answer = self._call("GET", urllib.parse.urljoin(self.endpoint + "/", more), expect=(200,), absolute=True)
        raise LRSError(f"{self.endpoint}: more than {max_pages} pages of statements; narrow the query")

    # --- HTTP with retries ------------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        expect: tuple[int, ...],
        conflict_ok: bool = False,
        absolute: bool = False,
    ) -> _Answer:
        url = path if absolute else self.endpoint + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        problem = ""
        for attempt in range(1, self.attempts + 1):
            retry_after: float | None = None
            try:
                answer = self._send(method, url, data)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, broken answers
                reason = getattr(exc, "reason", exc)
                problem = f"cannot reach the LRS ({reason})"
            else:
                if answer.status in expect or (conflict_ok and answer.status == 409):
                    return answer
                if answer.status == 429 or answer.status >= 500:
                    detail = _detail(answer)
                    problem = f"the LRS answered {answer.status}" + (f" ({detail})" if detail else "")
                    retry_after = _retry_after(answer.headers)
                else:
                    raise self._refused(answer, method, body)
            if attempt < self.attempts:
                delay = min(self.max_delay, self.backoff * 2 ** (attempt - 1))
                self._sleep(min(self.max_delay, retry_after) if retry_after is not None else delay)
        raise LRSError(
            f"{self.endpoint}: {problem} after {self.attempts} attempt(s); check the address and try again later "
            "(what was accepted so far is remembered and will not be sent again)"
        )

    def _send(self, method: str, url: str, data: bytes | None) -> _Answer:
        headers = {"X-Experience-API-Version": XAPI_VERSION, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if self._auth:
            headers["Authorization"] = self._auth
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        self.requests += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return _Answer(response.status, response.read(), _lower(response.headers.items()))
        except urllib.error.HTTPError as exc:
            with exc:
                body = exc.read() if exc.fp is not None else b""
            return _Answer(exc.code, body, _lower(exc.headers.items()) if exc.headers else {})

    def _refused(self, answer: _Answer, method: str, body: Any) -> LRSError:
        code, detail, where = answer.status, _detail(answer), self.endpoint
        if code == 401:
            who = f"user {self.user!r}" if self.user else "requests without a user"
            return LRSError(
                f"{where}: the LRS refused the credentials of {who} (401); check --lrs-user and --lrs-password (or TRAINER_LRS_PASSWORD)"
            )
        if code == 403:
            return LRSError(
                f"{where}: user {self.user!r} may not {'read' if method == 'GET' else 'write'} statements there (403); ask the LRS's administrator for that right"
            )
        if code == 404:
            return LRSError(
                f"{where}/statements: not found (404); give the LRS's xAPI endpoint, e.g. https://lrs.example.org/xAPI"
            )
        if 300 <= code < 400:
            location = answer.headers.get("location") or "elsewhere"
            return LRSError(f"{where}: the LRS redirects to {location} ({code}); give that address instead")
        if code == 400 and method != "GET":
            count = len(body) if isinstance(body, list) else 1
            return LRSError(
                f"{where}: the LRS rejected {count} statement(s) as invalid (400: {detail}); nothing was stored"
            )
        return LRSError(f"{where}: the LRS refused the request ({code}: {detail})")


def _detail(answer: _Answer, limit: int = 200) -> str:
    """The LRS's own words about an error, on one short line."""
    try:
        data = answer.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and "detail" in data:
        text = data["detail"] if isinstance(data["detail"], str) else json.dumps(data["detail"], ensure_ascii=False)
    elif isinstance(data, dict) and "message" in data:
        text = str(data["message"])
    else:
        text = answer.body.decode("utf-8", "replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lower(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k.lower(): v for k, v in items}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# --- what has been sent ---------------------------------------------------------------------------------------------


class Ledger(Protocol):
    """How many of each session's statements (in export order) one LRS has accepted."""

    def sent(self, session_id: str) -> int: ...

    def mark(self, counts: Mapping[str, int]) -> None: ...


class Settings(Protocol):
    def get_setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...


def ledger_key(endpoint: str) -> str:
    """The settings key of an LRS's ledger: xapi.sent.<endpoint>, hashed when the URL is too long for the key column."""
    key = LEDGER_PREFIX + endpoint
    if len(key) <= _SETTING_KEY_MAX:
        return key
    return LEDGER_PREFIX + "sha256:" + hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


class SettingsLedger:
    """The ledger of one LRS kept in the store's settings as JSON {session id: statements accepted}."""

    def __init__(self, settings: Settings, endpoint: str) -> None:
        self.settings = settings
        self.key = ledger_key(endpoint)
        raw = settings.get_setting(self.key)
        try:
            loaded = json.loads(raw) if raw else {}
        except ValueError:
            loaded = {}
        self.counts: dict[str, int] = {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    def sent(self, session_id: str) -> int:
        return self.counts.get(session_id, 0)

    def mark(self, counts: Mapping[str, int]) -> None:
        self.counts.update(counts)
        self.settings.set_setting(self.key, json.dumps(self.counts, sort_keys=True, separators=(",", ":")))


@dataclass
class MemoryLedger:
    """A ledger that lives as long as the object (tests, one-off sends)."""

    counts: dict[str, int] = field(default_factory=dict)

    def sent(self, session_id: str) -> int:
        return self.counts.get(session_id, 0)

    def mark(self, counts: Mapping[str, int]) -> None:
        self.counts.update(counts)


@dataclass
class SendReport:
    posted: int = 0  # statements in batches the LRS accepted
    stored: int = 0  # of those, the ones the LRS said were new (an LRS that lists every id counts them all as new)
    already: int = 0  # of those, the ones the LRS said it already had (204, missing from its answer, or 409)
    conflicts: int = 0  # of those, ids the LRS holds with different content (409): kept as they were there
    skipped: int = 0  # remembered as sent by an earlier run: not posted at all
    batches: int = 0
    sessions: set[str] = field(default_factory=set)

    def summary(self, endpoint: str) -> str:
        text = (
            f"{endpoint}: posted {self.posted} statement(s) of {len(self.sessions)} session(s) in {self.batches} batch(es)"
            f" ({self.stored} new, {self.already} already there); {self.skipped} skipped as sent before"
        )
        if self.conflicts:
            text += f"; {self.conflicts} id(s) were there with other content (kept as they were)"
        return text


def send(
    client: LRSClient,
    sessions: Iterable[tuple[str, Sequence[Mapping[str, Any]]]],
    ledger: Ledger,
    *,
    batch_size: int = BATCH_SIZE,
) -> SendReport:
    """Post each session's statements that the ledger does not list as sent, in batches; update the ledger per batch.

    `sessions` gives (session id, that session's statements in export order). The ledger counts a prefix of that list, so
    a session that has grown since (new events) sends only its new statements.
    """
    report = SendReport()
    pending: list[tuple[str, int, Mapping[str, Any]]] = []
    for session_id, statements in sessions:
        done = min(ledger.sent(session_id), len(statements))
        report.skipped += done
        pending += [(session_id, i + 1, s) for i, s in enumerate(statements) if i >= done]
    for batch in _chunks(pending, max(1, batch_size)):
        _post_batch(client, [s for _, _, s in batch], report)
        counts: dict[str, int] = {}
        for session_id, position, _ in batch:
            counts[session_id] = max(counts.get(session_id, 0), position)
            report.sessions.add(session_id)
        ledger.mark(counts)
        report.batches += 1
    return report


def _post_batch(client: LRSClient, batch: list[Mapping[str, Any]], report: SendReport) -> None:
    try:
        stored = set(client.post(batch))
    except _Conflict:
        # Some id is there already with other content, and the batch was refused whole. Post one by one: each is then
        # stored, found identical (dropped), or found different (kept as the LRS has it: statements are immutable).
        for statement in batch:
            try:
                new = str(statement.get("id")) in client.post([statement])
            except _Conflict:
                new = False
                report.conflicts += 1
            report.posted += 1
            report.stored += new
            report.already += not new
        return
    ids = {str(s.get("id")) for s in batch}
    new = len(ids & stored)
    report.posted += len(batch)
    report.stored += new
    report.already += len(batch) - new


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
