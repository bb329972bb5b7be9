"""Collect what people did with the office's posts: likes, reposts and replies, every hour.

Thin: ``alumni.social.engagement`` stores and matches; this flow asks each account's network
about its recent posts, one task per account. A network that cannot answer (down, or a Bluesky
PDS without an AppView) is logged and counted, and the next run tries again.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from prefect import flow, get_run_logger, task

from alumni.db import get_engine
from alumni.models import utcnow
from alumni.settings import get_settings
from alumni.social.accounts import network_accounts
from alumni.social.engagement import posts_to_check, store_engagement
from connectors.social import SocialConnectError
from flows.outcome import completed, reported
from flows.run_names import at_scheduled_minute
from flows.social import prefect_secret


@task(name="collect-engagement")
def collect_account(account_name: str, posts: list[tuple[int, str]]) -> dict[str, int]:
    """Ask one account's network about its posts [(post id, remote id)] and store the answers."""
    logger = get_run_logger()
    accounts = {a.name: a for a in network_accounts(get_settings(), prefect_secret)}
    account = accounts.get(account_name)
    if account is None:
        logger.warning("account %s is no longer configured: skipping its posts", account_name)
        return {"unreachable": len(posts)}
    counts: Counter[str] = Counter()
    client = account.open()
    try:
        for post_id, remote_id in posts:
            try:
                engagement = client.engagement(remote_id)
            except SocialConnectError as exc:
                logger.warning("post %d on %s: %s", post_id, account_name, exc)
                counts["unreachable"] += 1
                continue
            if engagement is None:  # a network that keeps nothing to read back
                counts["not readable"] += 1
                continue
            counts["checked"] += 1
            counts.update(store_engagement(get_engine(), post_id, engagement, now=utcnow()))
    finally:
        client.close()
    return dict(counts)


@flow(name="social-engagement", flow_run_name=at_scheduled_minute("social-engagement"))
@reported(
    "social-engagement-failure",
    "Fix the cause above; the next hourly run collects everything again, nothing twice.",
)
def social_engagement(days: int = 30) -> dict[str, int]:
    """Collect engagement of every post made in the last ``days`` days.

    Returns:
        How many posts were checked, unreachable or not readable (a network that keeps no
        engagement), and how many new replies, likes and reposts were stored ("from alumni":
        those tied to a known alum).
    """
    posts = posts_to_check(get_engine(), since=utcnow() - timedelta(days=days))
    by_account: dict[str, list[tuple[int, str]]] = {}
    for post_id, _network, account, remote_id in posts:
        by_account.setdefault(account, []).append((post_id, remote_id))
    total: Counter[str] = Counter({"checked": 0})
    for account, items in by_account.items():
        total.update(collect_account(account, items))
    if not posts:
        return completed(f"no post in the last {days} days to check", dict(total))
    said = f"{total['checked']} of {len(posts)} post(s) checked" + "".join(
        f", {count} {what}" for what, count in sorted(total.items()) if what != "checked"
    )
    return completed(said, dict(total))
