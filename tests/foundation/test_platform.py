import io
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

import core.management.commands.encryption_rotate as rotate_command
from accounts.models import User
from brands.models import Brand
from core.errors import ApplicationError
from core.exports import csv_bytes, csv_safe
from core.money import format_minor, parse_major, round_minor
from tests.factories import BrandFactory

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "mgm.example.com",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "sqlite:////tmp/mgm-check-deploy.sqlite3",
        "REDIS_URL": "redis://127.0.0.1:6379/15",  # read by settings; check does not connect
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # a test-process setting, never a deployment one
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest():
    brand = BrandFactory(vtex_app_token="super-secret-token")
    with connection.cursor() as cursor:
        cursor.execute("SELECT vtex_app_token, hook_token FROM campaigns_brand WHERE id = %s", [brand.pk])
        raw_token, raw_hook = cursor.fetchone()
    assert "super-secret-token" not in raw_token
    assert raw_token.startswith("gAAAA")  # a Fernet token
    assert Brand.objects.get(pk=brand.pk).vtex_app_token == "super-secret-token"
    assert raw_hook != Brand.objects.get(pk=brand.pk).hook_token


@pytest.mark.django_db
def test_encryption_rotate_reencrypts_with_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    brand = BrandFactory(vtex_app_token="token-before-rotation")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("encryption_rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert Brand.objects.get(pk=brand.pk).vtex_app_token == "token-before-rotation"


@pytest.mark.django_db
def test_metrics_are_not_public(client):
    assert client.get("/metrics", REMOTE_ADDR="198.51.100.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    with override_settings(METRICS_TOKEN="s3cret-token"):
        ok = client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_AUTHORIZATION="Bearer s3cret-token")
        assert ok.status_code == 200
        assert b"django_http_requests" in ok.content
        bad = client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_AUTHORIZATION="Bearer nope")
        assert bad.status_code == 403


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_csp(client):
    response = client.get(reverse("home"), HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    forged = client.get(reverse("home"), HTTP_X_REQUEST_ID="bad id\r\ninjected")
    assert forged["X-Request-ID"] != "bad id\r\ninjected"


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [("en", "en"), ("pt-br", "pt-br"), ("es", "es")])
def test_language_switcher_changes_the_page_language(client, language, expected):
    response = client.post(reverse("set_language"), {"language": language, "next": "/"}, follow=True)
    assert response.status_code == 200
    assert response["Content-Language"] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("hello", "hello"),
        (-150, -150),
        (None, ""),
    ],
)
def test_csv_cells_are_neutralised(value, expected):
    assert csv_safe(value) == expected


def test_csv_has_bom_and_crlf():
    data = csv_bytes(["a", "b"], [["=1", "x,y"]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == 'a,b\r\n\'=1,"x,y"\r\n'


def test_money_rounding_and_parsing():
    assert round_minor(Decimal("2.5")) == 2
    assert round_minor(Decimal("3.5")) == 4
    assert parse_major("1234.50", currency="BRL") == 123450

    for bad in ["12.345", "abc", "NaN"]:
        with pytest.raises(ApplicationError):
            parse_major(bad, currency="BRL")


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    counts = (Brand.objects.count(), User.objects.count())
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert (Brand.objects.count(), User.objects.count()) == counts
    demo = Brand.objects.get(slug="demo")
    assert demo.vtex_account == "demo"
    assert demo.campaigns.filter(status="active").exists()
    assert User.objects.filter(is_superuser=True, email="admin@demo.mgm").exists()


@pytest.mark.django_db
def test_seed_demo_prints_no_secret_and_says_once_why_codes_do_not_reach_vtex(caplog):
    out = io.StringIO()
    with caplog.at_level(logging.WARNING):
        call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    demo = Brand.objects.get(slug="demo")
    assert demo.hook_token not in printed
    assert "manage.py vtex_hook_token --brand demo" in printed
    assert printed.count("Codes are not sent to VTEX") == 1
    assert not [r for r in caplog.records if r.name.startswith("codes.services") and r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "BRL 1,234.56"), ("es", "BRL 1.234,56"), ("pt-br", "BRL 1.234,56")],
)
def test_money_is_shown_the_way_each_language_writes_it(language, expected):
    with translation.override(language):
        assert format_minor(123456, "BRL") == expected
        assert format_minor(-150, "BRL").endswith("1.50" if language == "en" else "1,50")


@pytest.mark.django_db
def test_encryption_rotate_never_overwrites_a_value_changed_meanwhile(settings, monkeypatch):
    brand = BrandFactory(vtex_app_token="token-read-by-the-rotation")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), settings.FIELD_ENCRYPTION_KEYS[0]]
    real_rotate = rotate_command.rotate_str
    changed = []

    def rotate_while_someone_saves(token):
        if not changed:  # the application saves a new token between the read and the write
            Brand.objects.filter(pk=brand.pk).update(vtex_app_token="token-saved-meanwhile")
            changed.append(True)
        return real_rotate(token)

    monkeypatch.setattr(rotate_command, "rotate_str", rotate_while_someone_saves)
    call_command("encryption_rotate", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Brand.objects.get(pk=brand.pk).vtex_app_token == "token-saved-meanwhile"
