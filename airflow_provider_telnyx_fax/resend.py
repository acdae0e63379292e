"""
The resend rule: which fax already sent with a send key stands for the send, and when to send again.

One rule for ``SendFaxOperator`` and every row of ``SendFaxBatchOperator`` (``docs/sending.md``,
"Reruns, retries and backfills"):

- ``if_failed`` (default): a queued, in-progress or delivered fax stands. After a *retryable* failure
  the fax is sent again; a *permanent* failure stands and is reported, because the same number and
  document would fail the same way (a changed number or document is a new send key anyway).
- ``never``: the newest fax stands, whatever its status.
- ``always``: no earlier fax stands; only a fax sent in this very try does.

Either way a fax sent in the current try stands until the next try: within one try nothing is
redialled, the task's retries do that. A fax Telnyx failed *before dialling* because a channel or
spend limit was reached (:func:`~airflow_provider_telnyx_fax.models.was_not_dialled`) never stands,
under any policy: it never reached the recipient, so sending it again cannot duplicate anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_telnyx_fax.models import FailureKind, FaxStatus, classify_failure, was_not_dialled

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

RESEND_POLICIES = ("if_failed", "always", "never")


def checked_resend_policy(policy: str) -> str:
    """``policy`` when it is one of :data:`RESEND_POLICIES`; checked when the DAG is parsed."""
    if policy not in RESEND_POLICIES:
        raise ValueError(f"resend_policy must be one of {', '.join(RESEND_POLICIES)}, not {policy!r}")
    return policy


def standing_fax(
    faxes: Sequence[dict[str, Any]],
    *,
    policy: str,
    sent_this_try: Callable[[dict[str, Any]], bool] = lambda fax: False,
    retryable_reasons: Sequence[str] = (),
    permanent_reasons: Sequence[str] = (),
) -> dict[str, Any] | None:
    """
    The fax that stands for a send under ``policy``, or ``None`` when it is to be sent (again).

    :param faxes: the faxes carrying the send key, newest first.
    :param policy: one of :data:`RESEND_POLICIES`.
    :param sent_this_try: whether a fax was sent in the current try of the task.
    :param retryable_reasons: failure reasons to treat as retryable, overriding the table.
    :param permanent_reasons: failure reasons to treat as permanent, overriding the table.
    """
    faxes = [fax for fax in faxes if not was_not_dialled(fax)]
    if policy == "always":
        faxes = [fax for fax in faxes if sent_this_try(fax)]
    if not faxes:
        return None
    if policy == "never":
        return faxes[0]
    for fax in faxes:
        if fax["status"] != FaxStatus.FAILED.value:
            return fax
    latest = faxes[0]
    kind = classify_failure(
        latest.get("failure_reason"), retryable_reasons=retryable_reasons, permanent_reasons=permanent_reasons
    )
    if sent_this_try(latest) or kind is FailureKind.PERMANENT:
        return latest
    return None
