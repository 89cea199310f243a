"""Posting xAPI statements to a Learning Record Store over HTTP (urllib only): each record once, and kept current.

1. A ledger remembers, per LRS and trainee identity (the actors' homePage) and per session, which statement id the LRS
   holds in each of the session's slots (StoreLedger keeps it in the store's settings, one row per session). A statement
   whose id is in the ledger is not sent again; a slot whose id changed (a rescore, a pass/fail flip: ids follow content,
   see trainer.export.xapi) gets the new statement and a `voided` statement for the old one, in the same batch; a slot
   that is gone (a session voided in Trainer) gets its statement voided. The ledger is updated after every accepted
   batch, so a run that stops half-way resumes after the last accepted batch.
2. Statement ids are deterministic, so a statement posted again anyway (after a crash between the LRS's answer and the
   ledger update, or from another machine with its own ledger) has the id the LRS already holds: the LRS drops it (204,
   or 200 without its id) or refuses it (409: a conflict, reported by id).

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
from trainer.export.xapi import Slotted, legacy_statement_id, voiding

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

    def check(self) -> None:
        """Make sure this is an xAPI 1.0 LRS that takes these credentials, even on a run with nothing to post.

        GET /about (with the credentials) names the xAPI versions; many LRSs answer it without looking at credentials
        (and Ralph has no /about: 404), so a one-statement read follows, which every LRS authenticates: 401 is a wrong
        user or password, 403 a user that may write but not read (enough for posting).
        """
        about = self._call("GET", "/about", expect=(200, 404))
        if about.status == 200:
            try:
                versions = (about.json() or {}).get("version", [])
            except (ValueError, UnicodeDecodeError, AttributeError):
                versions = []
            if isinstance(versions, list) and versions and not any(str(v).startswith("1.0.") for v in versions):
                raise LRSError(
                    f"{self.endpoint}: the LRS speaks xAPI {', '.join(map(str, versions))}, not 1.0.x; give an xAPI 1.0 endpoint"
                )
        self._call("GET", "/statements", params={"limit": "1"}, expect=(200, 403))

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
    """Which statement id one LRS holds in each slot of each session (for one trainee identity)."""

    def sent(self, session_id: str) -> dict[str, str] | None:
        """slot -> statement id; None if the session was never sent (an empty dict: sent, then all voided)."""
        ...

    def legacy(self, session_id: str) -> int:
        """How many statements an older Trainer (whose ledger only counted them) sent of this session."""
        ...

    def mark(self, changes: Mapping[str, Mapping[str, str | None]]) -> None:
        """session -> slot -> the id now held (None: the slot's statement was voided)."""
        ...


class Settings(Protocol):
    def get_setting(self, key: str) -> str | None: ...

    def settings_under(self, prefix: str) -> dict[str, str]: ...

    def set_settings(self, values: Mapping[str, str]) -> None: ...


def ledger_key(endpoint: str) -> str:
    """The settings key of an older Trainer's ledger of an LRS (counts per session): xapi.sent.<endpoint>, hashed when
    the URL is too long for the key column. Read once to void what it lists, then ignored."""
    key = LEDGER_PREFIX + endpoint
    if len(key) <= _SETTING_KEY_MAX:
        return key
    return LEDGER_PREFIX + "sha256:" + hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def ledger_prefix(endpoint: str, home_page: str) -> str:
    """The settings prefix of the ledger of one LRS and trainee identity: xapi.ledger/<16 hex>/ (+ session id)."""
    name = hashlib.sha256(f"{endpoint}\n{home_page}".encode()).hexdigest()[:16]
    return f"xapi.ledger/{name}/"


class StoreLedger:
    """The ledger of one LRS and identity in the store's settings: one row per session, JSON {slot: statement id}.

    One row per session (not one for the whole LRS) so that a batch rewrites only the rows of its sessions.
    """

    def __init__(self, settings: Settings, endpoint: str, home_page: str) -> None:
        self.settings = settings
        self.prefix = ledger_prefix(endpoint, home_page)
        self.rows: dict[str, dict[str, str]] = {}
        for key, raw in settings.settings_under(self.prefix).items():
            self.rows[key[len(self.prefix) :]] = _slots(raw)
        self.counts = _counts(settings.get_setting(ledger_key(endpoint)))

    def sent(self, session_id: str) -> dict[str, str] | None:
        return self.rows.get(session_id)

    def legacy(self, session_id: str) -> int:
        return self.counts.get(session_id, 0)

    def mark(self, changes: Mapping[str, Mapping[str, str | None]]) -> None:
        values: dict[str, str] = {}
        for session_id, slots in changes.items():
            row = _apply(self.rows.setdefault(session_id, {}), slots)
            values[self.prefix + session_id] = json.dumps(row, sort_keys=True, separators=(",", ":"))
        if values:
            self.settings.set_settings(values)


@dataclass
class MemoryLedger:
    """A ledger that lives as long as the object (tests, one-off sends)."""

    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def sent(self, session_id: str) -> dict[str, str] | None:
        return self.rows.get(session_id)

    def legacy(self, session_id: str) -> int:
        return self.counts.get(session_id, 0)

    def mark(self, changes: Mapping[str, Mapping[str, str | None]]) -> None:
        for session_id, slots in changes.items():
            _apply(self.rows.setdefault(session_id, {}), slots)


def _apply(row: dict[str, str], slots: Mapping[str, str | None]) -> dict[str, str]:
    for slot, statement_id in slots.items():
        if statement_id is None:
            row.pop(slot, None)
        else:
            row[slot] = statement_id
    return row


def _slots(raw: str) -> dict[str, str]:
    try:
        loaded = json.loads(raw) if raw else {}
    except ValueError:
        loaded = {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _counts(raw: str | None) -> dict[str, int]:
    try:
        loaded = json.loads(raw) if raw else {}
    except ValueError:
        loaded = {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): int(v) for k, v in loaded.items() if isinstance(v, int)}


@dataclass(frozen=True)
class Outgoing:
    """One session as it should be in the LRS: its statements by slot (none for a session voided in Trainer), the actor
    that voiding statements name, and its number of events (to read an older Trainer's ledger)."""

    session_id: str
    statements: Sequence[Slotted]
    actor: Mapping[str, Any]
    event_count: int = 0


@dataclass(frozen=True)
class _Unit:
    """Statements posted in one batch, never split: a statement and the voiding of the one it replaces."""

    session_id: str
    slot: str
    holds: str | None  # the id the slot holds once the unit is accepted (None: the slot is voided)
    statements: tuple[Mapping[str, Any], ...]


@dataclass
class SendReport:
    posted: int = 0  # statements in batches the LRS accepted (voiding statements included)
    stored: int = 0  # of those, the ones the LRS said were new (an LRS that lists every id counts them all as new)
    already: int = 0  # of those, the ones the LRS said it already had (204, missing from its answer, or 409)
    voided: int = 0  # of those posted, the voiding statements (superseded or withdrawn statements)
    skipped: int = 0  # in the ledger as held by the LRS: not posted at all
    batches: int = 0
    sessions: set[str] = field(default_factory=set)
    conflict_ids: list[str] = field(
        default_factory=list
    )  # ids the LRS holds with other content (409): kept as they were

    @property
    def conflicts(self) -> int:
        return len(self.conflict_ids)

    def summary(self, endpoint: str) -> str:
        text = (
            f"{endpoint}: posted {self.posted} statement(s) of {len(self.sessions)} session(s) in {self.batches} batch(es)"
            f" ({self.stored} new, {self.already} already there; {self.voided} voiding superseded ones);"
            f" {self.skipped} skipped as sent before"
        )
        if self.conflicts:
            text += f"; {self.conflicts} id(s) were there with other content (kept as they were)"
        return text


def send(
    client: LRSClient,
    sessions: Iterable[Outgoing],
    ledger: Ledger,
    *,
    batch_size: int = BATCH_SIZE,
) -> SendReport:
    """Bring the LRS to the sessions' statements: post what the ledger does not hold, void what they no longer say.

    A statement whose id the ledger holds in its slot is skipped. A new id in a slot is posted together with a `voided`
    statement for the slot's old id (a rescore, a pass/fail flip); a slot the session no longer has is voided. Batches
    hold about `batch_size` statements; the ledger is updated after each accepted batch.
    """
    report = SendReport()
    units: list[_Unit] = []
    for out in sessions:
        known = ledger.sent(out.session_id)
        if known is None:
            known = _legacy_slots(out, ledger.legacy(out.session_id))
            if known:  # remembered at once: a run that stops half-way must still void the rest later
                ledger.mark({out.session_id: known})
        wanted: set[str] = set()
        for slotted in out.statements:
            wanted.add(slotted.slot)
            new_id, old_id = str(slotted.statement["id"]), known.get(slotted.slot)
            if new_id == old_id:
                report.skipped += 1
                continue
            posts = (slotted.statement,) + ((voiding(old_id, out.actor, out.session_id),) if old_id else ())
            units.append(_Unit(out.session_id, slotted.slot, new_id, posts))
        for slot, old_id in known.items():
            if slot not in wanted:
                units.append(_Unit(out.session_id, slot, None, (voiding(old_id, out.actor, out.session_id),)))
    for batch in _batches(units, max(1, batch_size)):
        statements = [s for unit in batch for s in unit.statements]
        _post_batch(client, statements, report)
        report.voided += sum(1 for s in statements if s.get("object", {}).get("objectType") == "StatementRef")
        changes: dict[str, dict[str, str | None]] = {}
        for unit in batch:
            changes.setdefault(unit.session_id, {})[unit.slot] = unit.holds
            report.sessions.add(unit.session_id)
        ledger.mark(changes)
        report.batches += 1
    return report


def _legacy_slots(out: Outgoing, count: int) -> dict[str, str]:
    """What an older Trainer's ledger says it sent of a session (the first `count` statements of its export: one per
    event in seq order, then the score statement), with the ids it gave them: slots no export has now, so all are voided
    and the session is posted again in the current profile."""
    slots: dict[str, str] = {}
    for n in range(1, count + 1):
        if n <= out.event_count:
            slots[f"legacy/{n}"] = legacy_statement_id(out.session_id, n)
        elif out.event_count:
            slots["legacy/score"] = legacy_statement_id(out.session_id, out.event_count, "score")
    return slots


def _batches(units: list[_Unit], size: int) -> Iterator[list[_Unit]]:
    batch: list[_Unit] = []
    count = 0
    for unit in units:
        if batch and count + len(unit.statements) > size:
            yield batch
            batch, count = [], 0
        batch.append(unit)
        count += len(unit.statements)
    if batch:
        yield batch


def _post_batch(client: LRSClient, batch: list[Mapping[str, Any]], report: SendReport) -> None:
    try:
        stored = set(client.post(batch))
    except _Conflict:
        # Some id is there already with other content, and the batch was refused whole. Post one by one: each is then
        # stored, found identical (dropped), or found different (kept as the LRS has it: statements are immutable).
        for statement in batch:
            try:
                is_new = str(statement.get("id")) in client.post([statement])
            except _Conflict:
                is_new = False
                report.conflict_ids.append(str(statement.get("id")))
            report.posted += 1
            report.stored += is_new
            report.already += not is_new
        return
    ids = {str(s.get("id")) for s in batch}
    new = len(ids & stored)
    report.posted += len(batch)
    report.stored += new
    report.already += len(batch) - new
