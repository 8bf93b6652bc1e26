"""Notices of new matches: when an offer or demand is published, the members of its
organisation and of each counterpart's organisation whose match scores at least
LANHAI_NOTIFY_SCORE are told, in their inbox, their Atom feed, and by e-mail when an SMTP
server is configured (LANHAI_SMTP_URL).

A sweep looks at the entries written since the last one (with a margin, so a transaction
that committed late is not missed) and notifies each (user, offer, demand) once. The server
sweeps every LANHAI_NOTIFY_EVERY seconds; ``lanhai market notify`` and ``POST
/api/market/notify`` sweep at once. Only public entries are matched and notified, over the
public market: a notice never names what its reader may not see. Each sweep first moves the
published entries whose ``expires`` day has passed to ``expired``.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from lanhai.errors import NotFound, UsageError
from lanhai.market.feeds import FeedEntry, atom
from lanhai.model import MAX_KEY
from lanhai.services.access import ANONYMOUS, Actor, require_admin, require_user
from lanhai.services.market import MarketService, on_market
from lanhai.settings import Settings
from lanhai.store import market as store
from lanhai.store import records as record_store
from lanhai.store.database import Database

log = logging.getLogger("lanhai.notifications")
#: entries written this long before the last sweep started are looked at again
OVERLAP = dt.timedelta(minutes=10)
#: matches of one new entry looked at
TOP = 20
#: times a notice's e-mail is tried before it is left to the inbox
EMAIL_ATTEMPTS = 5
SMTP_TIMEOUT = 30


class NotificationService:
    """The sweep that notifies new matches, the inboxes, and the e-mails."""

    def __init__(self, db: Database, market: MarketService, settings: Settings) -> None:
        self.db, self.market, self.settings = db, market, settings
        self._sweeping = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the sweep ------------------------------------------------------------------------------
    def sweep(self, actor: Actor) -> dict[str, int]:
        """Notify every new match of the entries written since the last sweep; e-mail what
        is not yet sent. Returns how many entries were looked at, notices made and e-mails
        sent."""
        require_admin(actor)
        # one sweep at a time in this process, and across every server process of the bank
        # (each runs the notifier): a notice is made and e-mailed once
        with self._sweeping, self.db.exclusive("market notification sweep"):
            started = dt.datetime.now(dt.UTC)
            self.expire(actor, started.date())
            with self.db.read() as conn:
                last = store.sweep_started(conn)
                changed = store.entries_changed_since(conn, last - OVERLAP if last else None)
                found = record_store.get_records(conn, changed)
            fresh = [r for r in found.values() if on_market(r.fields) and not r.restricted]
            made = sum(self._notify(record) for record in fresh)
            with self.db.write() as conn:
                store.set_sweep_started(conn, started)
            sent = self._email()
        return {"entries": len(fresh), "notified": made, "emailed": sent}

    def expire(self, actor: Actor, today: dt.date) -> list[str]:
        """Move every published offer and demand whose ``expires`` day has passed to
        ``expired`` (renewing one is moving its date and submitting it again); their
        accessions."""
        require_admin(actor)
        catalog = self.market.catalog
        passed: list[tuple[str, str]] = []
        for kind in ("offer", "demand"):
            with catalog.each(actor, kind, ["market_status=published"]) as batches:
                passed += [(r.accession, r.fields["expires"]) for batch in batches
                           for r in batch if r.fields.get("expires")
                           and r.fields["expires"] < today.isoformat()]
        for accession, until in passed:
            catalog.update(actor, accession, {"market_status": "expired"},
                           note=f"expired: listed until {until}")
        return [accession for accession, _ in passed]

    def _notify(self, record: Any) -> int:
        result = self.market.match(ANONYMOUS, record.accession, top=TOP)
        good = [m for m in result["matches"] if m["score"] >= self.settings.notify_score]
        if not good:
            return 0
        with self.db.read() as conn:
            others = record_store.get_records(conn, [m["accession"] for m in good])
            owners = {record.accession: record.fields.get("organisation")}
            owners.update({a: r.fields.get("organisation") for a, r in others.items()})
            members = store.members_of(conn, {o for o in owners.values() if o})
        made = 0
        now = dt.datetime.now(dt.UTC)
        with self.db.write() as conn:
            for match in good:
                other = others.get(match["accession"])
                if other is None:
                    continue
                offer, demand = (record, other) if record.kind == "offer" else (other, record)
                body = {"kind": "match", "offer": offer.accession, "demand": demand.accession,
                        "offer_name": _name(offer), "demand_name": _name(demand),
                        "score": match["score"],
                        "shared": [c["en"] for c in match["shared_concepts"][:5]]}
                subject = (f"New match · 新的匹配: {body['offer_name']} ↔ "
                           f"{body['demand_name']} ({match['score']:.2f})")
                key = f"match:{offer.accession}:{demand.accession}"
                told = {row.username for entry in (record, other)
                        for row in members.get(owners.get(entry.accession) or "", [])}
                made += sum(store.add_notification(conn, name, key, subject, body, now)
                            for name in sorted(told))
        return made

    def _email(self) -> int:
        """Send the notices not yet e-mailed (when an SMTP server is configured)."""
        if not self.settings.smtp_url:
            return 0
        with self.db.read() as conn:
            pending = store.unsent(conn, EMAIL_ATTEMPTS)
        if not pending:
            return 0
        sent = done = 0
        try:
            with _smtp(self.settings.smtp_url) as server:
                sender = self.settings.smtp_from or \
                    f"lanhai@{urlsplit(self.settings.smtp_url).hostname or 'localhost'}"
                for notice, address in pending:
                    ok = _send(server, sender, address, notice)
                    with self.db.write() as conn:
                        store.mark_emailed(conn, notice.id,
                                           dt.datetime.now(dt.UTC) if ok else None)
                    sent, done = sent + ok, done + 1
        except (OSError, smtplib.SMTPException) as err:
            log.warning("the SMTP server %s refused or is away (%s); notices stay in the "
                        "inboxes and are e-mailed later", _where(self.settings.smtp_url), err)
            with self.db.write() as conn:
                for notice, _ in pending[done:]:
                    store.mark_emailed(conn, notice.id, None)
        return sent

    # -- running in a server ---------------------------------------------------------------------
    def start(self) -> None:
        """Sweep every LANHAI_NOTIFY_EVERY seconds in a background thread (not at 0)."""
        every = self.settings.notify_every
        if every <= 0 or self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(every):
                try:
                    self.sweep(Actor("notifier", "admin", local=True))
                except Exception:  # a sweep that fails is tried again at the next tick
                    log.exception("the market's notification sweep failed")

        self._thread = threading.Thread(target=run, name="lanhai-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    # -- inboxes -------------------------------------------------------------------------------
    def inbox(self, actor: Actor, unread: bool = False) -> list[store.Notification]:
        """The caller's notices, newest first (the last 200)."""
        require_user(actor)
        with self.db.read() as conn:
            return store.notifications_of(conn, actor.username, unread=unread)

    def read(self, actor: Actor, notice_id: int) -> None:
        """Mark one of the caller's notices read (404 for anyone else's)."""
        require_user(actor)
        if not 1 <= notice_id <= MAX_KEY:
            raise NotFound(f"no notice {notice_id}")
        with self.db.write() as conn:
            if not store.mark_read(conn, actor.username, notice_id, dt.datetime.now(dt.UTC)):
                raise NotFound(f"no notice {notice_id}")

    def feed(self, actor: Actor, base_url: str) -> bytes:
        """The caller's notices as an Atom feed."""
        base = base_url.rstrip("/")
        entries = [FeedEntry(
            id=f"{base}/market/inbox/{n.id}", title=n.subject, updated=n.created_at,
            link=f"{base}/records/{n.body.get('demand') or n.body.get('offer')}",
            summary=_text(n)) for n in self.inbox(actor)]
        return atom(f"{base}/market/inbox/{actor.username}",
                    f"Lanhai market notices for {actor.username} · 蓝海市场通知",
                    f"{base}/api/market/inbox.atom", f"{base}/market/inbox", entries)


def _name(record: Any) -> str:
    return str(record.name or record.fields.get("title_zh") or record.accession)


def _text(notice: store.Notification) -> str:
    b = notice.body
    shared = ", ".join(b.get("shared", []))
    return (f"{b.get('offer_name')} ({b.get('offer')}) matches {b.get('demand_name')} "
            f"({b.get('demand')}) with a score of {b.get('score')}"
            + (f"; in common: {shared}" if shared else "") + ".\n"
            f"Open /records/{b.get('demand')} on the bank to see why, and the other "
            "matches.")


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")


def _smtp(url: str) -> smtplib.SMTP:
    """A connection to the SMTP server ``url`` names, logged in when it names a user."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise UsageError(f"LANHAI_SMTP_URL {_where(url)!r}: write smtp://host[:port], "
                         "smtps://… or smtp+starttls://…")
    if scheme == "smtps":
        server: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, parts.port or 465,
                                                timeout=SMTP_TIMEOUT)
    else:
        server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT)
        if scheme == "smtp+starttls":
            server.starttls()
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server


def _send(server: smtplib.SMTP, sender: str, address: str,
          notice: store.Notification) -> bool:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, address, notice.subject
    message.set_content(_text(notice) + "\n")
    try:
        server.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        log.warning("the SMTP server refused the address of %s", notice.username)
        return False
    return True
