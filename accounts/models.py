import hashlib
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.history import history_user


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractUser):
    """Everyone who logs in: staff (managers, finance, viewers) and influencers. Email is the
    login; there is no username."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # A literal, not settings.LANGUAGE_CODE: a model default must not change with the environment
    # (tests read English), or every environment would want its own migration.
    preferred_language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="es")

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]
    history = HistoricalRecords(get_user=history_user, excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


API_KEY_PREFIX = "mgm"


class APIKey(models.Model):
    """A credential for one external client of one brand. Only a SHA-256 of the secret is
    stored: keys are 256-bit random, so a slow hash adds nothing but latency."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    # "<resource>:<verb>" strings from accounts.api_scopes.SCOPES; nothing else is accepted.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: the key does not expire.")
    )
    # Requests per minute for this key; empty uses the platform default (API_KEY_RATE_LIMIT).
    rate_limit_per_minute = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True)
    rotated_to = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rotated_from",
        verbose_name=_("replaced by"),
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def generate() -> tuple[str, str]:
        """Return (prefix, full key). The full key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed when the same client
    sends the same key again (Stripe's semantics, accounts.api_idempotency). Kept 24 hours."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")

    owner = models.CharField(max_length=40)  # "key:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="uniq_idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
