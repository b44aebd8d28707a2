"""django-simple-history's "who changed it" for every model's history."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser


def history_user(request: Any = None, **kwargs: Any) -> AbstractBaseUser | None:
    """The signed-in person, or None: an API key client is not a User (the audit log records
    which key acted), so history rows made through the API have no user."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) and user.pk is not None else None
