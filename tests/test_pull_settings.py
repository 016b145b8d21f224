"""Connector credentials are settings like every other, and never shown."""

from orchestration.settings import Settings

URL = "postgresql+psycopg://reader:pa55word@db.internal/billing"
KEY = "rk_live_abcdef"


def test_secrets_are_hidden_in_the_display_and_the_repr():
    settings = Settings.from_env({"GTM_SQL_URL": URL, "GTM_STRIPE_API_KEY": KEY})
    shown = dict((variable, value) for variable, value, _ in settings.as_display())
    assert shown["GTM_SQL_URL"] == "<set>" and shown["GTM_STRIPE_API_KEY"] == "<set>"
    assert shown["GTM_STRIPE_API_BASE"] == "https://api.stripe.com"
    assert "pa55word" not in repr(settings) and KEY not in repr(settings)
    assert settings.sql_url == URL and settings.stripe_api_key == KEY


def test_connectors_are_not_configured_by_default():
    settings = Settings.from_env({})
    assert (settings.stripe_api_key, settings.sql_source, settings.sql_url, settings.gl_export) == (None, None, None, None)
    assert settings.stripe_account_key == "crm_account_id" and settings.gl_layout == "quickbooks"
