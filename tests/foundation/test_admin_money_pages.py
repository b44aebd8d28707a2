"""On the demo data, no admin page shows a stored amount as it is stored: every list and the
change page of a row of every admin with money fields (inlines included) is read in Spanish,
and a cell or read-only value, or an input's value, equal to a raw minor-unit amount fails."""

import os
from typing import Any

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from core.admin_money import money_fields

pytestmark = pytest.mark.django_db


def _raw_amounts(obj: Any) -> set[int]:
    # Small amounts (under 10.00) read the same as many counts on a page: only larger ones are
    # looked for, which is where a 100x slip hurts.
    return {
        int(getattr(obj, name))
        for name in money_fields(type(obj))
        if getattr(obj, name) is not None and abs(int(getattr(obj, name))) >= 1000
    }


def _shown_raw(body: str, amounts: set[int]) -> list[int]:
    return sorted(a for a in amounts if f">{a}<" in body or f'value="{a}"' in body)


def test_no_admin_page_of_the_demo_shows_minor_units(superuser: Any, verified_client: Any) -> None:
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = verified_client(superuser)
    problems: list[str] = []
    checked = 0
    for model, model_admin in admin.site._registry.items():
        inline_models = [i.model for i in model_admin.inlines]
        if not money_fields(model) and not any(money_fields(m) for m in inline_models):
            continue
        opts = model._meta
        try:
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        rows = list(model._default_manager.order_by("-pk")[:20])
        if not rows:
            continue
        body = client.get(changelist, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        listed = set().union(*(_raw_amounts(r) for r in rows))
        problems += [f"{changelist}: {a}" for a in _shown_raw(body, listed)]
        obj = rows[0]
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = client.get(change, HTTP_ACCEPT_LANGUAGE="es")
        if response.status_code != 200:
            continue
        page = response.content.decode()
        amounts = _raw_amounts(obj)
        for inline_model in inline_models:
            for field in inline_model._meta.fields:
                if field.is_relation and field.related_model is model:
                    children = inline_model._default_manager.filter(**{field.name: obj})[:20]
                    amounts |= set().union(set(), *(_raw_amounts(c) for c in children))
        problems += [f"{change}: {a}" for a in _shown_raw(page, amounts)]
        checked += 1
    assert checked >= 5
    assert problems == []
