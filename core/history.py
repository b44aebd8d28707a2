"""django-simple-history's "who changed it" for every model's history."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from core import batching


def history_user(request: Any = None, **kwargs: Any) -> AbstractBaseUser | None:
    """The signed-in person, or None: an API key client is not a User (the audit log records
    which key acted), so history rows made through the API have no user."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) and user.pk is not None else None


_history_models: dict[tuple[type, str], Any] = {}


def _history_model(model: type, manager_name: str) -> Any:
    """The historical model of `model`. Asked through the `history` descriptor, simple-history
    builds a new manager class on every access (~0.5 ms): once per model is enough."""
    key = (model, manager_name)
    if key not in _history_models:
        _history_models[key] = getattr(model, manager_name).model
    return _history_models[key]


class BatchedHistoricalRecords(HistoricalRecords):
    """`HistoricalRecords` whose rows, inside a batch (core.batching), are inserted together
    when the batch ends (still in its transaction, in the order of the saves) instead of one
    INSERT per save: the order sync saves an order and its commissions several times each.
    Outside a batch, and for models with many-to-many history, it is simple-history's own."""

    def create_historical_record(self, instance: Any, history_type: str, using: Any = None) -> None:
        if batching.current() is None or getattr(self, "m2m_fields", None):
            super().create_historical_record(instance, history_type, using=using)
            return
        history_date = getattr(instance, "_history_date", timezone.now())
        history_user = self.get_history_user(instance)
        history_change_reason = self.get_change_reason_for_object(instance, history_type, using)
        history_model = _history_model(type(instance), self.manager_name)
        attrs = {field.attname: getattr(instance, field.attname) for field in self.fields_included(instance)}
        if getattr(history_model, "history_relation", None) is not None:
            attrs["history_relation"] = instance
        history_instance = history_model(
            history_date=history_date,
            history_type=history_type,
            history_user=history_user,
            history_change_reason=history_change_reason,
            **attrs,
        )
        signal_args = {
            "sender": history_model,
            "instance": instance,
            "history_date": history_date,
            "history_user": history_user,
            "history_change_reason": history_change_reason,
            "history_instance": history_instance,
            "using": using,
        }
        pre_create_historical_record.send(**signal_args)
        batching.defer_insert(history_instance)
        post_create_historical_record.send(**signal_args)
