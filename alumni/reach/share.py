"""Share kits: for a sharer (an ambassador, or any alum) of a class, a link with their
referral code and ready-to-post text for each network, within its length, in their language.

The link is ``<base URL>/join/<code>``: the code (``alumni.messages.signing.make_short_code``,
purpose ``share``) signs the id of the sharer's ``ShareLink`` row for the class, made once, so
the same sharer always shares the same link, and whoever signs up through it is credited to
them (``alumni.reach.referrals``). It names nobody to whoever reads it: only the row's id.

The text is the social template ``templates/social/share/<locale>.txt.j2`` (``class``,
``cohort``, ``sharer.first_name``, ``links.join``), rendered in the sharer's locale by the one
template store, and measured as each network measures it (``alumni.social.text``): a text too
long for a network is refused naming the network, the locale and by how much to shorten it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alumni.delivery.sending import cohort_numbers
from alumni.messages.rendering import TemplateStore
from alumni.messages.signing import make_short_code, read_short_code
from alumni.models import NETWORKS, Alumnus, AlumnusStatus, ShareLink, table_of
from alumni.reach.ambassadors import AmbassadorError, ambassadors_of, find_alumnus
from alumni.social.text import BLUESKY_LIMIT, MASTODON_LIMIT, check_length, length

__all__ = [
    "SHARE",
    "SHARE_TEMPLATE",
    "ShareKit",
    "SharePost",
    "join_link",
    "read_share_code",
    "share_kit",
    "share_kits",
    "share_link_id",
]

SHARE: Final = "share"  # the code's purpose
SHARE_TEMPLATE: Final = "share"
_LIMITS: Final = {"mastodon": MASTODON_LIMIT, "bluesky": BLUESKY_LIMIT}
_A = table_of(Alumnus)
_S = table_of(ShareLink)
# Nobody the office may not write to, or who is gone, shares a link.
_NOT_SHARERS = (AlumnusStatus.deceased, AlumnusStatus.erased, AlumnusStatus.do_not_contact)


@dataclass(frozen=True)
class SharePost:
    """The text for one network, and its length as that network counts it."""

    network: str
    text: str
    length: int
    limit: int


@dataclass(frozen=True)
class ShareKit:
    """One sharer's kit for their class."""

    external_id: str
    name: str
    class_year: int
    locale: str  # the template's locale the text is in
    link: str
    posts: tuple[SharePost, ...]


def join_link(key: bytes, base_url: str, share_link: int) -> str:
    """The join page's link for the ``ShareLink`` row ``share_link`` (never expires)."""
    return f"{base_url.rstrip('/')}/join/{make_short_code(key, SHARE, share_link)}"


def read_share_code(key: bytes, code: str) -> int:
    """The ``ShareLink`` id a join link's code carries.

    Raises:
        TamperedToken: not a share code of ours.
    """
    return read_short_code(key, SHARE, code)


def share_link_id(
    connection: Connection, alumnus_id: int, class_year: int, *, now: datetime
) -> int:
    """The sharer's ``ShareLink`` row for the class, made on first use."""
    found = connection.execute(
        sa.select(_S.c.id).where(_S.c.alumnus_id == alumnus_id, _S.c.class_year == class_year)
    ).scalar()
    if found is not None:
        return int(found)
    return int(
        connection.execute(
            sa.insert(_S)
            .values(alumnus_id=alumnus_id, class_year=class_year, created_at=now)
            .returning(_S.c.id)
        ).scalar_one()
    )


def share_kit(
    connection: Connection,
    *,
    class_year: int,
    alumnus_id: int,
    key: bytes,
    base_url: str,
    store: TemplateStore,
    now: datetime,
) -> ShareKit:
    """The kit of one sharer (an alum of ``class_year``) inside a write transaction: their
    link (made once) and the text for each network.

    Raises:
        AmbassadorError: the alum is of another class, or may not be written to.
        RenderError: the share template is missing or failed for the sharer's locale.
        ValueError: the text is too long for a network (named, with by how much).
    """
    alum = connection.execute(
        sa.select(
            _A.c.external_id,
            _A.c.first_name,
            _A.c.last_name,
            _A.c.class_year,
            _A.c.locale,
            _A.c.status,
        ).where(_A.c.id == alumnus_id)
    ).one()
    if alum.class_year != class_year:
        raise AmbassadorError(
            f"alum {alum.external_id!r} is of the class of {alum.class_year}, not "
            f"{class_year}: a share kit is for the sharer's own class"
        )
    if alum.status in _NOT_SHARERS:
        raise AmbassadorError(f"alum {alum.external_id!r} is {alum.status}: choose another sharer")
    link = join_link(key, base_url, share_link_id(connection, alumnus_id, class_year, now=now))
    context = {
        "class": {"year": class_year, "hashtag": f"#Class{class_year}"},
        "cohort": cohort_numbers(connection, class_year, now=now),
        "sharer": {"first_name": alum.first_name},
        "links": {"join": link},
    }
    rendered = store.render_post(SHARE_TEMPLATE, alum.locale, context)
    posts = []
    for network in NETWORKS:
        try:
            check_length(network, rendered.text)
        except ValueError as exc:
            raise ValueError(
                f"templates/social/{SHARE_TEMPLATE}/{rendered.locale}.txt.j2: {exc}"
            ) from None
        posts.append(
            SharePost(network, rendered.text, length(network, rendered.text), _LIMITS[network])
        )
    return ShareKit(
        external_id=alum.external_id,
        name=f"{alum.first_name} {alum.last_name}".strip(),
        class_year=class_year,
        locale=rendered.locale,
        link=link,
        posts=tuple(posts),
    )


def share_kits(
    connection: Connection,
    *,
    class_year: int,
    external_id: str | None,
    key: bytes,
    base_url: str,
    store: TemplateStore,
    now: datetime,
) -> list[ShareKit]:
    """The kits of the class: of the alum ``external_id`` when given, else of each of the
    class's ambassadors. See ``share_kit`` for what is raised.

    Raises:
        AmbassadorError: no such alum, or the class has no ambassador (name an alum then).
    """
    if external_id is not None:
        sharers = [find_alumnus(connection, external_id)]
    else:
        sharers = ambassadors_of(connection, class_year)
        if not sharers:
            raise AmbassadorError(
                f"the class of {class_year} has no ambassador: give --alumnus EXTERNAL_ID, or "
                "`alumni ambassador add` one"
            )
    return [
        share_kit(
            connection,
            class_year=class_year,
            alumnus_id=sharer,
            key=key,
            base_url=base_url,
            store=store,
            now=now,
        )
        for sharer in sharers
    ]
