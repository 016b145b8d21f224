"""Alerts to a Slack-compatible webhook: the JSON sent, and the URL never shown anywhere."""

import logging

import pytest

from orchestration.lib.quality import alerts
from tests.support.webhook import SECRET
from tests.support.webhook import LocalWebhook as _Webhook


def _assert_secret_never_shown(caplog, capsys, *texts: str) -> None:
    shown = "\n".join([caplog.text, *capsys.readouterr(), *texts])
    assert SECRET not in shown
    assert "/services/" not in shown


def test_alert_is_posted_as_slack_json_and_the_url_is_never_shown(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with _Webhook() as hook:
        delivery = alerts.notify("refresh r1 was NOT published: unmapped stage 'Legal'", hook.url)
    assert delivery.status == "sent"
    assert hook.received == [({"text": "refresh r1 was NOT published: unmapped stage 'Legal'"}, "application/json")]
    assert "unmapped stage 'Legal'" in caplog.text  # the alert is in the log too
    _assert_secret_never_shown(caplog, capsys, str(delivery), repr(delivery))


def test_a_failing_webhook_is_reported_without_the_url(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with _Webhook(status=500) as hook:
        delivery = alerts.notify("blocked", hook.url)
    assert delivery.status == "failed" and delivery.detail == "HTTP 500"
    _assert_secret_never_shown(caplog, capsys, str(delivery), repr(delivery))


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:9/services/{SECRET}",  # nothing listens: connection refused
        f"http://127.0.0.1:notaport/services/{SECRET}",  # malformed
        f"http://{SECRET.replace('/', '-')}.invalid/services/{SECRET}",  # unknown host
    ],
)
def test_an_unreachable_webhook_never_raises_nor_shows_the_url(url, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    delivery = alerts.notify("blocked", url, timeout=2)
    assert delivery.status == "failed"
    shown = "\n".join([caplog.text, *capsys.readouterr(), str(delivery), repr(delivery)])
    assert SECRET not in shown and SECRET.replace("/", "-") not in shown


def test_without_a_webhook_the_alert_is_only_logged(caplog):
    caplog.set_level(logging.ERROR)
    delivery = alerts.notify("blocked: EUR amount without a rate", None)
    assert delivery.status == "not_configured"
    assert "EUR amount without a rate" in caplog.text


def test_long_alerts_are_cut_to_what_slack_shows():
    with _Webhook() as hook:
        alerts.notify("x" * 10_000, hook.url)
    ((body, _),) = hook.received
    assert len(body["text"]) <= alerts.MAX_TEXT


def test_the_dagster_alert_resource_reads_the_url_from_the_environment(monkeypatch, caplog, capsys):
    from orchestration.defs.quality.resources import AlertResource

    with _Webhook() as hook:
        monkeypatch.setenv("GTM_ALERT_WEBHOOK", hook.url)
        resource = AlertResource()
        delivery = resource.notify("run r2 failed")
        shown = repr(resource) + str(resource.model_dump() if hasattr(resource, "model_dump") else "")
    assert delivery.status == "sent"
    assert hook.received[0][0] == {"text": "run r2 failed"}
    _assert_secret_never_shown(caplog, capsys, shown)
