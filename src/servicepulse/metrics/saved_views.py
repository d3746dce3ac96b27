"""Saved views: a metrics page with its filters under a name its user chose ("Zakelijke klanten, Q3").

A view stores the page's path and query string only, both checked here: the path must be one of the analytics
pages, the query only their own filter parameters (no other text can ride along, so a view holds no personal
data). Every user keeps their own views (list, rename, delete); administrators and analysts may share one of
theirs with every user of the dashboard (audited). A view goes with its user (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.models import SavedView, User
from servicepulse.models.base import utcnow
from servicepulse.org import record_audit

# The parameters the analytics pages read: filters (period, journey, channel, team, segment, language) and the
# pages' own choices (trend grain, outcome, what the drivers include).
FILTER_PARAMS = ("month", "from", "to", "journey", "channel", "team", "segment", "language")
PAGE_PARAMS = ("period", "outcome", "include")
VIEW_PARAMS = FILTER_PARAMS + PAGE_PARAMS
PAGES = {  # page kind -> path pattern
    "overview": re.compile(r"/metrics"),
    "journey": re.compile(r"/metrics/journeys/[1-9][0-9]{0,9}"),
    "moment": re.compile(r"/metrics/moments/[1-9][0-9]{0,9}"),
    "drivers": re.compile(r"/metrics/drivers"),
    "predicted": re.compile(r"/metrics/predicted"),
    "survey": re.compile(r"/surveys/[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"),
}
SHARERS = ("admin", "analyst")
MAX_NAME = 100
MAX_QUERY = 1000
MAX_VIEWS = 100  # per user: a list, not a store
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class SavedViewError(ValueError):
    """A refused view: ``key`` names the message (insights.saved.error.<key>), ``values`` fill it in."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class ViewItem:
    id: int
    name: str
    page: str  # a key of PAGES
    path: str
    query: str
    shared: bool
    owner_id: int
    owner_name: str

    @property
    def url(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def filters(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query)


MAX_ID = 2**31 - 1  # ids are 32-bit on both databases


def page_of(path: str) -> str | None:
    kind = next((kind for kind, pattern in PAGES.items() if pattern.fullmatch(path)), None)
    if kind in ("journey", "moment") and int(path.rsplit("/", 1)[-1]) > MAX_ID:
        return None
    return kind


def clean_query(query: str) -> str:
    """The query string with only the pages' parameters, empty ones dropped, in their given order; anything
    else refuses the view (a parameter we do not read has no business in it)."""
    if len(query) > MAX_QUERY:
        raise SavedViewError("path")
    pairs = []
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if name not in VIEW_PARAMS or len(value) > 200 or _CONTROL.search(value):
            raise SavedViewError("path")
        if value:
            pairs.append((name, value))
    return urlencode(pairs)


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME or _CONTROL.search(name):
        raise SavedViewError("name")
    return name


def _item(view: SavedView, owner_name: str) -> ViewItem:
    return ViewItem(view.id, view.name, page_of(view.path) or "overview", view.path, view.query, view.shared,
                    view.user_id, owner_name)


def list_views(session: Session, user_id: int) -> tuple[list[ViewItem], list[ViewItem]]:
    """(the user's own views, views others share), each by name."""
    rows = session.execute(
        select(SavedView, User.name).join(User, User.id == SavedView.user_id)
        .where((SavedView.user_id == user_id) | SavedView.shared.is_(True))
        .order_by(func.lower(SavedView.name), SavedView.id)).all()
    own = [_item(v, name) for v, name in rows if v.user_id == user_id]
    shared = [_item(v, name) for v, name in rows if v.user_id != user_id]
    return own, shared


def _own(session: Session, user_id: int, view_id: int) -> SavedView:
    view = session.get(SavedView, view_id)
    if view is None or view.user_id != user_id:  # someone else's view is not there for this user
        raise NotFound(f"saved view {view_id} does not exist")
    return view


def _name_free(session: Session, user_id: int, name: str, but: int | None = None) -> None:
    taken = session.scalar(select(SavedView.id).where(SavedView.user_id == user_id,
                                                      func.lower(SavedView.name) == name.lower()))
    if taken is not None and taken != but:
        raise SavedViewError("duplicate", name=name)


def create_view(session: Session, user_id: int, name: str, path: str, query: str) -> SavedView:
    name = clean_name(name)
    if page_of(path) is None:
        raise SavedViewError("path")
    query = clean_query(query)
    _name_free(session, user_id, name)
    count = session.scalar(select(func.count()).select_from(SavedView).where(SavedView.user_id == user_id))
    if count >= MAX_VIEWS:
        raise SavedViewError("too_many", n=count)
    view = SavedView(user_id=user_id, name=name, path=path, query=query, shared=False, created_at=utcnow(),
                     updated_at=utcnow())
    session.add(view)
    session.flush()
    return view


def rename_view(session: Session, user_id: int, view_id: int, name: str) -> SavedView:
    view = _own(session, user_id, view_id)
    name = clean_name(name)
    _name_free(session, user_id, name, but=view.id)
    view.name = name
    view.updated_at = utcnow()
    session.flush()
    return view


def delete_view(session: Session, user_id: int, view_id: int) -> None:
    session.delete(_own(session, user_id, view_id))
    session.flush()


def share_view(session: Session, user: User, view_id: int, shared: bool) -> SavedView:
    """Share one's own view with everyone (or stop): administrators and analysts only; audited."""
    if user.role not in SHARERS:
        raise PermissionError("only administrators and analysts share views")
    view = _own(session, user.id, view_id)
    if view.shared != shared:
        view.shared = shared
        view.updated_at = utcnow()
        record_audit(session, f"user:{user.id}", "saved_view.share" if shared else "saved_view.unshare",
                     {"view_id": view.id, "path": view.path})
        session.flush()
    return view
