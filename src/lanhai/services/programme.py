"""Programme monitoring: indicators, their values per quarter, reported updates and their
review, closed periods and the funder's report.

Who may do what:

- the **public** (anonymous callers and readers) sees published figures only: the snapshots
  of closed quarters, their reports and the records behind them that anyone may see;
- **reporting units** (members acting for an organisation) submit updates for reported
  indicators (those naming units, only their units') and edit their own organisation's
  updates until they are approved; they see the live figures too, counted over the records
  they may see;
- the **programme office** (curators and admins) approves or returns updates, sees the
  live figures over every record and closes quarters; admins edit the indicators.

A closed quarter's snapshot is frozen twice: over every record for the programme office
(confidential ones counted, never named) and over the records anyone may see for everyone
else, so no published figure counts what a reader may not see. Neither ever changes: a
report is generated from its snapshot alone, byte for byte the same whenever it is
generated again.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from lanhai.errors import (
    ConcurrentChange,
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    UsageError,
    ValidationFailed,
)
from lanhai.kinds import KINDS, kind_of_accession
from lanhai.model import MAX_KEY
from lanhai.programme.indicators import (
    DISAGGREGATIONS,
    Indicator,
    Programme,
    load_programme,
    parse_indicator,
)
from lanhai.programme.periods import Quarter, parse_quarter, quarter_of, quarters_between
from lanhai.programme.progress import STATUS_EN, STATUS_ZH, STATUSES, assess
from lanhai.services.access import Actor, require_admin, require_user
from lanhai.store import programme as store
from lanhai.store import records as record_store
from lanhai.store.dashboard import AggregateCache
from lanhai.store.database import Database

#: how many records behind a value a list shows at most
MAX_BEHIND = 5000
#: the largest evidence document accepted (bytes)
MAX_DOCUMENT = 20 * 1024 * 1024
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


def _office(actor: Actor) -> bool:
    """Curators and admins: the programme office."""
    return actor.role in ("curator", "admin")


def _live(actor: Actor) -> bool:
    """Who sees figures of quarters not yet closed."""
    return _office(actor) or actor.member_of is not None


def canonical(data: Any) -> str:
    """The one JSON text of ``data`` (sorted keys, no spaces): what a snapshot is stored as."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class ProgrammeService:
    """The programme's indicators, values, updates, periods and reports over one catalog."""

    def __init__(self, db: Database, indicators_file: str = "",
                 documents: Path | None = None, today: Any = None) -> None:
        self.db = db
        self.indicators_file = indicators_file
        #: where evidence documents are kept, named by their SHA-256
        self.documents = documents
        self.cache = AggregateCache()
        #: what day it is (tests set another)
        self.today = today or (lambda: dt.date.today())

    # --- definitions ----------------------------------------------------------------------

    @functools.cached_property
    def shipped(self) -> Programme:
        """The plan as shipped (or as LANHAI_INDICATORS_FILE gives it), read once."""
        return load_programme(self.indicators_file or None)

    def programme(self) -> Programme:
        """The shipped plan with every admin edit applied."""
        shipped = self.shipped
        with self.db.read() as conn:
            edits = store.latest_versions(conn)
        if not edits:
            return shipped
        tasks = {t.key for t in shipped.tasks}
        items = {i.key: i for i in shipped.indicators}
        for key, edit in sorted(edits.items()):
            items[key] = parse_indicator(edit.definition, shipped.year, tasks, key)
        order = [i.key for i in shipped.indicators] + sorted(set(items) - {
            i.key for i in shipped.indicators})
        return Programme(shipped.title, shipped.title_zh, shipped.year, shipped.start,
                         shipped.tasks, tuple(items[k] for k in order))

    def definition(self, key: str) -> Indicator:
        try:
            return self.programme().indicator(key)
        except KeyError:
            raise NotFound(f"no indicator {key!r}; `lanhai indicators list` names them"
                           ) from None

    def edit(self, actor: Actor, key: str, changes: Mapping[str, Any], reason: str
             ) -> dict[str, Any]:
        """Change (or add) an indicator: ``changes`` replace parts of its definition; the
        whole new definition is checked and kept as a new version. Admins only."""
        require_admin(actor)
        if not reason.strip():
            raise UsageError("say why the indicator changes (reason), e.g. 'target raised "
                             "by the 2026 mid-term review'")
        programme = self.programme()
        try:
            current = _editable(programme.indicator(key))
        except KeyError:
            current = {"key": key}
        if "key" in changes and changes["key"] != key:
            raise UsageError("an indicator's key cannot change; retire it (retired = true) "
                             "and add another")
        merged = {**current, **changes}
        parsed = parse_indicator(merged, programme.year, {t.key for t in programme.tasks},
                                 key)
        with self.db.write() as conn:
            version = store.add_version(conn, key, _editable(parsed), actor.username,
                                        reason.strip())
        return {**self.indicator(actor, key), "version": version}

    def history(self, actor: Actor, key: str) -> list[dict[str, Any]]:
        """The shipped definition (version 0) and every edit since."""
        shipped = self.shipped
        out: list[dict[str, Any]] = []
        if key in {i.key for i in shipped.indicators}:
            out.append({"key": key, "version": 0, "changed_by": "shipped file",
                        "changed_at": None, "reason": "",
                        "definition": _editable(shipped.indicator(key))})
        with self.db.read() as conn:
            out += [v.to_dict() for v in store.history(conn, key)]
        if not out:
            raise NotFound(f"no indicator {key!r}")
        return out

    # --- values ---------------------------------------------------------------------------

    def quarters(self, programme: Programme, upto: Quarter) -> list[Quarter]:
        """The quarters reported on, from the programme's start to ``upto`` (at most the
        target year's last)."""
        last = min(upto, Quarter(programme.year, 4))
        return quarters_between(parse_quarter(programme.start), last)

    def _monthly(self, item: Indicator, seen: bool) -> list[tuple[str, int]]:
        assert item.count is not None
        since = item.baseline_date if item.count.since_baseline else None
        with self.db.read() as conn:
            compute = partial(store.monthly, conn, item.count, seen, since)
            if item.count.source in KINDS:
                return self.cache.get(conn, ("monthly", item.count, since, seen), compute)
            return compute()

    def _series(self, item: Indicator, quarters: Sequence[Quarter], seen: bool,
                approved: Sequence[store.Update]) -> list[dict[str, Any]]:
        """The value at each quarter's end (None where nothing was reported yet)."""
        out: list[dict[str, Any]] = []
        if item.count is not None:
            months = self._monthly(item, seen)
            for quarter in quarters:
                end = quarter.end.isoformat()[:7]
                first = f"{quarter.year}-01" if item.per_year else ""
                value = sum(n for m, n in months if first <= m <= end)
                out.append({"period": quarter.key, "value": float(value)})
            return out
        reported: dict[str, store.Update] = {}
        for update in approved:
            if update.indicator == item.key:
                reported[update.period] = update  # the last approved of a period counts
        latest: store.Update | None = None
        for quarter in quarters:
            latest = reported.get(quarter.key, latest)
            if item.per_year and latest is not None and \
                    parse_quarter(latest.period).year != quarter.year:
                latest = None
            out.append({"period": quarter.key,
                        "value": latest.value if latest else None,
                        "update": latest.id if latest else None,
                        "evidence": len(latest.evidence) if latest else 0})
        return out

    def _baseline(self, item: Indicator, seen: bool) -> tuple[dt.date, float] | None:
        if item.baseline_date is None:
            return None
        day = dt.date.fromisoformat(item.baseline_date)
        value = item.baseline
        if item.count is not None and not item.count.since_baseline and not item.per_year:
            value = float(sum(n for m, n in self._monthly(item, seen)
                              if m <= item.baseline_date[:7]))
        return day, value

    def evaluate(self, item: Indicator, quarters: Sequence[Quarter], seen: bool,
                 approved: Sequence[store.Update], as_of: dt.date) -> dict[str, Any]:
        """One indicator's series, latest value, status and evidence at ``as_of``."""
        series = self._series(item, quarters, seen, approved)
        baseline = self._baseline(item, seen)
        points = [(parse_quarter(s["period"]).end if parse_quarter(s["period"]).end <= as_of
                   else as_of, s["value"]) for s in series]
        progress = assess(item.target, item.target_date, baseline, points, as_of)
        value = series[-1]["value"] if series else None
        evidence = (int(value or 0) if item.count is not None
                    else int(series[-1].get("evidence", 0)) if series else 0)
        return {
            **_summary(item), "value": value, "series": series,
            "baseline_value": baseline[1] if baseline else item.baseline,
            "status": progress.status, "status_en": STATUS_EN[progress.status],
            "status_zh": STATUS_ZH[progress.status], "projected": progress.projected,
            "ratio": progress.ratio, "evidence": evidence,
            "update": series[-1].get("update") if series else None}

    def live(self, actor: Actor, upto: Quarter | None = None) -> dict[str, Any]:
        """Every indicator as of today (or the end of ``upto``), over the records the caller
        may see: the programme office and reporting units only."""
        require_user(actor)
        if not _live(actor):
            raise Forbidden("the figures of open quarters are for the programme office and "
                            "reporting units; closed quarters are published at "
                            "/api/programme/periods")
        return self._figures(actor.can_see_restricted, upto)

    def _figures(self, seen: bool, upto: Quarter | None = None) -> dict[str, Any]:
        programme = self.programme()
        today = self.today()
        upto = upto or quarter_of(today)
        as_of = min(upto.end, today)
        quarters = self.quarters(programme, upto)
        with self.db.read() as conn:
            approved = [u for u in store.approved_updates(conn)
                        if parse_quarter(u.period) <= upto]
        rows = [self.evaluate(item, quarters, seen, approved, as_of)
                for item in programme.indicators if not item.retired]
        return _assemble(programme, rows, upto.key, as_of)

    def indicator(self, actor: Actor, key: str) -> dict[str, Any]:
        """One indicator's definition, and its live figures for those who see them."""
        item = self.definition(key)
        out: dict[str, Any] = {**item.to_dict(), "task_name": None}
        programme = self.programme()
        task = programme.task(item.task)
        out["task_name"] = {"en": task.en, "zh": task.zh}
        if actor.signed_in and _live(actor):
            today = self.today()
            quarters = self.quarters(programme, quarter_of(today))
            with self.db.read() as conn:
                approved = store.approved_updates(conn)
            out["live"] = self.evaluate(item, quarters, actor.can_see_restricted, approved,
                                        today)
            if item.count is not None:
                out["live"]["breakdown"] = self._breakdowns(item, actor.can_see_restricted,
                                                            today)
        published = []
        with self.db.read() as conn:
            for period in store.closed_periods(conn).values():
                frozen = json.loads(period.view(_office(actor))[0])
                for row in frozen["indicators"]:
                    if row["key"] == key:
                        published.append({"period": period.period, "value": row["value"],
                                          "status": row["status"]})
        out["published"] = published
        return out

    def _breakdowns(self, item: Indicator, seen: bool, upto: dt.date
                    ) -> dict[str, dict[str, int]]:
        if item.count is None or item.count.source not in KINDS:
            return {}
        fields = KINDS[item.count.source].field_names
        since = item.baseline_date if item.count.since_baseline else None
        out: dict[str, dict[str, int]] = {}
        with self.db.read() as conn:
            for by in DISAGGREGATIONS:
                if by in fields:
                    out[by] = self.cache.get(
                        conn, ("breakdown", item.count, since, seen, upto, by),
                        partial(store.breakdown, conn, item.count, seen, since, upto, by))
        return out

    # --- reported updates -----------------------------------------------------------------

    def submit(self, actor: Actor, key: str, *, period: str, value: Any,
               evidence: Sequence[Mapping[str, Any]], note: str = "",
               as_of: str | None = None) -> dict[str, Any]:
        """A reporting unit's value of a reported indicator at the end of ``period``, with
        its evidence; it counts once the programme office approves it."""
        require_user(actor)
        item = self.definition(key)
        unit = actor.member_of
        if unit is None and not _office(actor):
            raise Forbidden("updates are submitted by reporting units (members acting for "
                            "an organisation) or the programme office")
        if item.count is not None:
            raise UsageError(f"{key} is computed from the bank's records ({item.how()}); "
                             "it takes no reported updates: add or correct the records")
        if unit is not None and item.units and unit not in item.units:
            raise Forbidden(f"{key} is reported by {', '.join(item.units)}, not by {unit}")
        fields = self._checked_update(period, value, evidence, note, as_of)
        with self.db.write() as conn:
            self._require_open(conn, fields["period"])
            update_id = store.insert_update(conn, {
                "indicator": key, **fields, "unit": unit, "submitted_by": actor.username})
            made = store.get_update(conn, update_id)
        assert made is not None
        return made.to_dict()

    def _checked_update(self, period: str, value: Any, evidence: Sequence[Mapping[str, Any]],
                        note: str, as_of: str | None) -> dict[str, Any]:
        problems: list[Problem] = []
        quarter = parse_quarter(period)
        today = self.today()
        if quarter.start > today:
            problems.append(Problem(
                reason=f"{quarter} has not begun", field="period", value=period,
                fix=f"report on a quarter that has begun (this is {quarter_of(today)})"))
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if not number >= 0 or number != number or number == float("inf"):
            problems.append(Problem(reason=f"value {value!r} is not a number at or above zero",
                                    fix="give the indicator's value at the end of the "
                                        "quarter, e.g. 3", field="value",
                                    value=str(value)))
        day: dt.date | None = min(quarter.end, today)  # the quarter's end, or today's
        if as_of not in (None, ""):
            try:
                day = dt.date.fromisoformat(str(as_of))
            except ValueError:
                day = None
                problems.append(Problem(reason=f"as_of {as_of!r} is not a date",
                                        fix="write YYYY-MM-DD", field="as_of",
                                        value=str(as_of)))
        if day is not None and not quarter.contains(day):
            problems.append(Problem(
                reason=f"as_of {day} is outside {quarter} ({quarter.start} to {quarter.end})",
                fix=f"give a day within {quarter}, or report it in {quarter_of(day)}",
                field="as_of", value=str(as_of)))
        elif day is not None and day > today:
            problems.append(Problem(reason=f"as_of {day} is in the future",
                                    fix="report what was observed by today",
                                    field="as_of", value=str(as_of)))
        items = self._evidence(evidence, problems)
        if problems:
            raise ValidationFailed("the update is not valid; nothing was saved", problems)
        assert day is not None
        return {"period": quarter.key, "value": number, "as_of": day.isoformat(),
                "evidence": items, "note": note.strip()[:5000]}

    def _evidence(self, evidence: Sequence[Mapping[str, Any]], problems: list[Problem]
                  ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if not evidence:
            problems.append(Problem(reason="an update needs evidence",
                                    fix="give a link (url), a record of the bank (record: "
                                        "LH…) or an uploaded document", field="evidence"))
        for n, raw in enumerate(evidence, 1):
            title = str(raw.get("title", "")).strip()[:300]
            if raw.get("url"):
                url = str(raw["url"]).strip()
                if not _URL.match(url):
                    problems.append(Problem(reason=f"evidence {n}: {url!r} is not a web "
                                            "address", fix="give an http(s) link",
                                            field="evidence", value=url))
                items.append({"url": url, "title": title})
            elif raw.get("record"):
                accession = str(raw["record"]).strip().upper()
                with self.db.read() as conn:
                    found = record_store.get_record(conn, accession) \
                        if kind_of_accession(accession) else None
                if found is None:
                    problems.append(Problem(reason=f"evidence {n}: {accession} is not a record "
                                            "of this bank", fix="give the accession of a "
                                            "record the bank holds", field="evidence",
                                            value=accession))
                items.append({"record": accession, "title": title})
            elif raw.get("sha256") and raw.get("document"):
                digest = str(raw["sha256"]).lower()
                if not re.fullmatch(r"[0-9a-f]{64}", digest):
                    problems.append(Problem(reason=f"evidence {n}: {digest!r} is not a "
                                            "SHA-256 digest", fix="upload the document "
                                            "first; it gives the digest", field="evidence"))
                elif self.documents is None or not (self.documents / digest).is_file():
                    problems.append(Problem(reason=f"evidence {n}: no document {digest} was "
                                            "uploaded", fix="upload the document first "
                                            "(POST /api/programme/documents)",
                                            field="evidence", value=digest))
                items.append({"document": str(raw["document"])[:300], "sha256": digest,
                              "title": title})
            else:
                problems.append(Problem(reason=f"evidence {n} names nothing",
                                        fix="give url, record or document with sha256",
                                        field="evidence"))
        return items

    def _require_open(self, conn: Any, period: str) -> None:
        if store.closed_period(conn, period) is not None:
            raise Conflict(f"{period} is closed: its figures are published and frozen; "
                           "report the value in the current quarter instead")

    def _own_update(self, actor: Actor, update_id: int) -> store.Update:
        require_user(actor)
        found = None
        if 1 <= update_id <= MAX_KEY:
            with self.db.read() as conn:
                found = store.get_update(conn, update_id)
        if found is None or not (_office(actor) or (
                actor.member_of is not None and found.unit == actor.member_of)):
            raise NotFound(f"no update {update_id}")
        return found

    def get_update(self, actor: Actor, update_id: int) -> dict[str, Any]:
        """One update: its reporting unit's members and the programme office."""
        return self._own_update(actor, update_id).to_dict()

    def change_update(self, actor: Actor, update_id: int, *, version: int | None = None,
                      period: str | None = None, value: Any = None,
                      evidence: Sequence[Mapping[str, Any]] | None = None,
                      note: str | None = None, as_of: str | None = None) -> dict[str, Any]:
        """A reporting unit corrects its own update (submitted or returned: it goes back
        for review); an approved update stays as approved."""
        found = self._own_update(actor, update_id)
        own = _office(actor) if found.unit is None else actor.member_of == found.unit
        if not own:
            raise Forbidden("an update is changed by its own reporting unit")
        if found.status == "approved":
            raise Conflict(f"update {update_id} is approved; submit a new one for the change")
        if version is not None and version != found.version:
            raise ConcurrentChange(f"update {update_id} changed since version {version} "
                                   f"(now {found.version}); read it again")
        fields = self._checked_update(
            period or found.period, found.value if value is None else value,
            found.evidence if evidence is None else evidence,
            found.note if note is None else note,
            found.as_of if as_of is None and period is None else as_of)
        with self.db.write() as conn:
            self._require_open(conn, found.period)
            self._require_open(conn, fields["period"])
            if not store.change_update(conn, update_id, found.version,
                                       {**fields, "status": "submitted"}):
                raise ConcurrentChange(f"update {update_id} changed meanwhile; read it again")
        return self.get_update(actor, update_id)

    def review(self, actor: Actor, update_id: int, decision: str, note: str = "",
               version: int | None = None) -> dict[str, Any]:
        """The programme office approves an update (it counts from then) or returns it to
        its unit with a note saying what to fix."""
        if not _office(actor):
            require_user(actor)
            raise Forbidden("updates are approved or returned by the programme office "
                            "(curators and admins)")
        found = self._own_update(actor, update_id)
        if decision not in ("approve", "return"):
            raise UsageError(f"decision {decision!r}: approve or return")
        if decision == "return" and not note.strip():
            raise UsageError("say what to fix when returning an update (note)")
        if found.status != "submitted":
            raise Conflict(f"update {update_id} is {found.status}; only submitted updates "
                           "are reviewed")
        if version is not None and version != found.version:
            raise ConcurrentChange(f"update {update_id} changed since version {version}")
        with self.db.write() as conn:
            self._require_open(conn, found.period)
            changed = store.change_update(conn, update_id, found.version, {
                "status": "approved" if decision == "approve" else "returned",
                "reviewed_by": actor.username, "reviewed_at": dt.datetime.now(dt.UTC),
                "review_note": note.strip()[:5000] or None})
            if not changed:
                raise ConcurrentChange(f"update {update_id} changed meanwhile; read it again")
        return self.get_update(actor, update_id)

    def updates(self, actor: Actor, *, indicator: str | None = None,
                status: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """The office sees every update; a reporting unit its own; anyone else none."""
        require_user(actor)
        if status and status not in ("submitted", "approved", "returned"):
            raise UsageError(f"status {status!r}: submitted, approved or returned")
        if period:
            period = parse_quarter(period).key
        if not _office(actor) and actor.member_of is None:
            return []
        with self.db.read() as conn:
            found = store.list_updates(conn, indicator=indicator, status=status, period=period,
                                       unit=actor.member_of, only_unit=not _office(actor))
        return [u.to_dict() for u in found]

    def save_document(self, actor: Actor, name: str, data: bytes) -> dict[str, Any]:
        """Keep an evidence document (a PDF, a scan, a spreadsheet) for an update; what to
        cite in the update's evidence: its name and SHA-256."""
        require_user(actor)
        if not (_office(actor) or actor.member_of is not None):
            raise Forbidden("evidence documents are uploaded by reporting units and the "
                            "programme office")
        name = Path(name.strip()).name[:300]
        if not name:
            raise UsageError("name the document (its file name, e.g. approval-notice.pdf)")
        if not data:
            raise UsageError(f"{name} is empty")
        if len(data) > MAX_DOCUMENT:  # (readers stop one byte past the limit)
            raise UsageError(f"{name} has {len(data):,} bytes; documents up to "
                             f"{MAX_DOCUMENT // 1024 // 1024} MB are kept")
        assert self.documents is not None
        digest = hashlib.sha256(data).hexdigest()
        target = self.documents / digest
        if not target.exists():
            self.documents.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.documents, prefix=".part-")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        return {"document": name, "sha256": digest, "size": len(data)}

    def document(self, actor: Actor, digest: str) -> bytes:
        """An evidence document, to the programme office and reporting units."""
        require_user(actor)
        if not (_office(actor) or actor.member_of is not None) or self.documents is None \
                or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise NotFound(f"no document {digest}")
        path = self.documents / digest
        if not path.is_file():
            raise NotFound(f"no document {digest}")
        return path.read_bytes()

    # --- periods and reports --------------------------------------------------------------

    def periods(self, actor: Actor) -> list[dict[str, Any]]:
        """The quarters reported on: closed (published) ones to everyone, open ones with
        their pending updates to those who see live figures."""
        programme = self.programme()
        today = self.today()
        with self.db.read() as conn:
            closed = store.closed_periods(conn)
            pending = store.list_updates(conn, status="submitted") if _office(actor) else []
        out = []
        for quarter in self.quarters(programme, quarter_of(today)):
            done = closed.get(quarter.key)
            if done is None and not _live(actor):
                continue
            out.append({"period": quarter.key, "start": quarter.start.isoformat(),
                        "end": quarter.end.isoformat(), "closed": done is not None,
                        "closed_at": done.closed_at.isoformat() if done else None,
                        "closed_by": done.closed_by if done else None,
                        "sha256": done.view(_office(actor))[1] if done else None,
                        "pending": sum(1 for u in pending if u.period == quarter.key),
                        "ended": quarter.end < today})
        return out

    def close(self, actor: Actor, period: str) -> dict[str, Any]:
        """Freeze a quarter that has ended: its snapshot (every indicator's value, series,
        status and evidence, computed over every record) and the records behind each value
        are stored; later edits never change them."""
        if not _office(actor):
            require_user(actor)
            raise Forbidden("quarters are closed by the programme office")
        quarter = parse_quarter(period)
        today = self.today()
        programme = self.programme()
        if quarter.end >= today:
            raise UsageError(f"{quarter} ends on {quarter.end}; a quarter is closed once it "
                             "has ended")
        if quarter < parse_quarter(programme.start):
            raise UsageError(f"{quarter} is before the programme's first quarter "
                             f"{programme.start}")
        with self.db.read() as conn:
            if store.closed_period(conn, quarter.key) is not None:
                raise Conflict(f"{quarter} is closed already")
            pending = store.list_updates(conn, status="submitted", period=quarter.key)
        if pending:
            raise Conflict(f"{quarter} has {len(pending)} update(s) waiting for review "
                           f"({', '.join(str(u.id) for u in pending[:10])}); approve or "
                           "return them first")
        closed_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        meta = {"period": quarter.key, "start": quarter.start.isoformat(),
                "end": quarter.end.isoformat(), "closed_at": closed_at.isoformat(),
                "closed_by": actor.username}
        views: dict[bool, dict[str, Any]] = {}
        evidence: dict[str, list[str]] = {}
        for seen in (True, False):
            figures = self._figures(seen, quarter)
            figures.update(meta)
            for row in figures["indicators"]:
                item = programme.indicator(row["key"])
                if item.count is None or item.count.source not in KINDS:
                    continue
                since = item.baseline_date if item.count.since_baseline else None
                with self.db.read() as conn:
                    if seen:
                        evidence[item.key] = store.behind(conn, item.count, True, since,
                                                          quarter.end)
                    row["breakdown"] = {
                        by: store.breakdown(conn, item.count, seen, since, quarter.end, by)
                        for by in DISAGGREGATIONS
                        if by in KINDS[item.count.source].field_names}
            views[seen] = figures
        texts = {seen: canonical(views[seen]) for seen in views}
        frozen = store.ClosedPeriod(
            quarter.key, closed_at, actor.username, texts[True],
            hashlib.sha256(texts[True].encode()).hexdigest(), texts[False],
            hashlib.sha256(texts[False].encode()).hexdigest())
        with self.db.write() as conn:
            if store.closed_period(conn, quarter.key) is not None:
                raise Conflict(f"{quarter} is closed already")
            if store.list_updates(conn, status="submitted", period=quarter.key):
                raise Conflict(f"{quarter} received an update while closing; review it and "
                               "close again")
            store.close_period(conn, frozen, evidence)
        return {"period": quarter.key, "closed_at": closed_at.isoformat(),
                "closed_by": actor.username, "sha256": frozen.sha256,
                "public_sha256": frozen.public_sha256,
                "indicators": len(views[True]["indicators"])}

    def snapshot(self, actor: Actor, period: str) -> dict[str, Any]:
        """A closed quarter's frozen figures (the programme office's over every record,
        everyone else's over the records anyone may see), or the live figures of an open
        one (the programme office and reporting units)."""
        quarter = parse_quarter(period)
        with self.db.read() as conn:
            done = store.closed_period(conn, quarter.key)
        if done is not None:
            return _frozen(done, _office(actor))
        if not actor.signed_in or not _live(actor):
            raise NotFound(f"{quarter} is not published yet; published quarters are listed at "
                           "/api/programme/periods")
        live = self.live(actor, quarter)
        live["closed"] = False
        return live

    def published(self, actor: Actor) -> dict[str, Any] | None:
        """The latest closed quarter's snapshot as the caller may see it, or None before
        any is closed."""
        with self.db.read() as conn:
            closed = store.closed_periods(conn)
        if not closed:
            return None
        return _frozen(closed[max(closed)], _office(actor))

    def overview(self, actor: Actor) -> dict[str, Any]:
        """What the programme page shows the caller: live figures for the office and
        reporting units, the latest published quarter for everyone else."""
        if actor.signed_in and _live(actor):
            figures = self.live(actor)
            figures["closed"] = False
        else:
            figures = self.published(actor) or {"indicators": [], "tasks": [], "closed": False,
                                           "period": None, "summary": _count_statuses([])}
        figures["periods"] = self.periods(actor)
        return figures

    def behind(self, actor: Actor, key: str, period: str | None = None,
               limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """The records (or approved update) behind an indicator's value: at a closed
        quarter's end as frozen, or live; for anyone but the programme office only the
        records anyone may see (neither named nor counted otherwise)."""
        item = self.definition(key)
        office = _office(actor)
        quarter = parse_quarter(period) if period else None
        with self.db.read() as conn:
            done = store.closed_period(conn, quarter.key) if quarter else None
            if quarter is not None and done is None and not (actor.signed_in and _live(actor)):
                raise NotFound(f"{quarter} is not published yet")
            if quarter is None and not (actor.signed_in and _live(actor)):
                raise NotFound("live figures are for the programme office and reporting "
                               "units; ask for a closed quarter (period=YYYY-Qn)")
            if item.count is None:
                updates = [u for u in store.approved_updates(conn) if u.indicator == key and (
                    quarter is None or parse_quarter(u.period) <= quarter)]
                last = updates[-1].to_dict() if updates else None
                return {"indicator": key, "method": "reported", "period": quarter.key
                        if quarter else None, "update": last}
            if item.count.source not in KINDS:
                return {"indicator": key, "method": "computed", "source": item.count.source,
                        "records": [], "total": None}
            if done is not None:
                accessions = store.frozen_behind(conn, done.period, key) or []
            else:
                since = item.baseline_date if item.count.since_baseline else None
                upto = quarter.end if quarter else self.today()
                accessions = store.behind(conn, item.count, actor.can_see_restricted, since,
                                          upto)
            shown = accessions if office else sorted(store.visible_accessions(conn,
                                                                              accessions))
        limit = max(1, min(limit, MAX_BEHIND))
        return {"indicator": key, "method": "computed", "period": quarter.key if quarter
                else None, "total": len(shown), "offset": offset,
                "records": shown[offset:offset + limit]}

    def report_xlsx(self, actor: Actor, period: str) -> bytes:
        """The funder's workbook of a quarter (closed: byte-identical every time)."""
        from lanhai.programme.report import workbook

        return workbook(self.snapshot(actor, period))


def _frozen(done: store.ClosedPeriod, office: bool) -> dict[str, Any]:
    text, digest = done.view(office)
    frozen: dict[str, Any] = json.loads(text)
    frozen["sha256"] = digest
    frozen["closed"] = True
    return frozen


def _editable(item: Indicator) -> dict[str, Any]:
    """An indicator's definition in the form the file and edits use."""
    data = item.to_dict()
    target = item.target
    data["target"] = (True if target.milestone else None if target.low is None
                      else [target.low, target.high] if target.high is not None
                      else target.low)
    data["above"] = target.above
    data.pop("method")
    data.pop("how")
    data.pop("how_zh")
    data.update(item.extra)
    if data["count"] is not None:
        data["count"] = {k: v for k, v in data["count"].items() if v not in (None, [], False)}
    return {k: v for k, v in data.items() if v is not None}


def _summary(item: Indicator) -> dict[str, Any]:
    return {"key": item.key, "task": item.task, "en": item.en, "zh": item.zh,
            "unit": item.unit, "unit_zh": item.unit_zh, "target": item.target.to_dict(),
            "target_year": item.target_year, "baseline_date": item.baseline_date,
            "responsible": item.responsible, "responsible_zh": item.responsible_zh,
            "method": item.method, "how": item.how(), "how_zh": item.how(zh=True),
            "source": item.count.source if item.count else None}


def _count_statuses(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}


def _assemble(programme: Programme, rows: list[dict[str, Any]], period: str,
              as_of: dt.date) -> dict[str, Any]:
    """The figures of every indicator with the summaries by task and responsible unit."""
    tasks = [{"key": t.key, "en": t.en, "zh": t.zh,
              "summary": _count_statuses([r for r in rows if r["task"] == t.key])}
             for t in programme.tasks]
    units: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        units.setdefault(row["responsible"] or "", []).append(row)
    by_unit = [{"unit": unit, "unit_zh": group[0]["responsible_zh"],
                "indicators": len(group), "summary": _count_statuses(group)}
               for unit, group in sorted(units.items())]
    return {"title": programme.title, "title_zh": programme.title_zh,
            "year": programme.year, "period": period, "as_of": as_of.isoformat(),
            "tasks": tasks, "indicators": rows, "by_unit": by_unit,
            "summary": _count_statuses(rows)}
