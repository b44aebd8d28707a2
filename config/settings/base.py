"""Settings shared by every environment. Anything that varies by environment comes from `env`
and is listed, with a comment, in `.env.example`."""

from datetime import timedelta

import django_stubs_ext
from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config.env import BASE_DIR, env

# Lets generic admin/form/queryset classes be subscripted at runtime (django-stubs).
django_stubs_ext.monkeypatch()

# --- Core -----------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me-0123456789abcdefghijklmnop")
# Old keys still accepted for signatures (sessions, reset links) while rotating SECRET_KEY.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_ID = 1
# The platform's name where no brand applies (staff account emails, the Sites row).
PLATFORM_NAME = env("PLATFORM_NAME", default="MGM")

INSTALLED_APPS = [
    "config.apps.MGMAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    # Third party
    "django_prometheus",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "django_celery_beat",
    # Ours: one app per bounded context
    "core",
    "accounts",
    "brands",  # the tenant: brands, staff access, brand scoping (decision 0022)
    "audit",
    "campaigns",
    "affiliates",
    "codes",
    "orders",
    "commissions",
    "creatives",  # the creatives library of each campaign (issue 19)
    "payments",
    "tracking",
    "integrations",
    "reports",
    "claims",  # missing-order claims: above commissions, below reports (docs/claims.md)
    "webhooks",  # above everything it listens to (core.events), just under the edges
    "notifications",  # tells influencers what happened (core.events; decision 0040)
    "portal",  # edge: the influencer portal
    "backoffice",  # edge: the admin site, landing page, demo seed
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.request_context.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.request_context.RequestUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.ratelimits.RateLimitStatusMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Machine endpoints: requests under these paths run through MIDDLEWARE minus what only a
# browser needs (config/machine_handler.py, decision 0052). Metrics, the request id, HTTPS
# rules, the language of error messages and CommonMiddleware's URL rules stay.
MACHINE_PATH_PREFIXES = ["/api/v1/webhooks/vtex/"]
MACHINE_MIDDLEWARE_SKIPPED = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.request_context.RequestUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.ratelimits.RateLimitStatusMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# Without DATABASE_URL the platform runs on an embedded SQLite file (demo / first run).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Web serving (config/click_edge.py): Django requests handled at once per process (each holds a
# thread and, while it queries, a pooled connection), and how many more may wait before the
# server answers 503 with Retry-After (backpressure instead of unbounded latency).
WEB_DJANGO_CONCURRENCY = env.int("WEB_DJANGO_CONCURRENCY", default=8)
WEB_DJANGO_QUEUE = env.int("WEB_DJANGO_QUEUE", default=512)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if env.bool("DATABASE_POOL", default=False):
        # psycopg's pool in each web process (docs/decisions/0021): requests borrow a connection
        # and give it back when they finish, so a process never holds more than `max_size`
        # connections, however many threads serve it. Needs CONN_MAX_AGE = 0.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=WEB_DJANGO_CONCURRENCY + 2),
            # A request that waits longer than this for a connection fails (PoolTimeout).
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
            "max_idle": 300,
        }
    else:
        # Celery workers and Beat (one connection per process, kept): a pool must not cross a fork.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_SERVER_SIDE_BINDING", default=True):
        # Parameters travel apart from the SQL text, so psycopg prepares a statement the
        # connection has run five times: PostgreSQL parses and plans it once, not on every
        # execution (a quarter of its CPU in the order pipeline). Decision 0058. A threshold of
        # 0 prepares nothing (psycopg's None; its own 0 would prepare every statement at once).
        _prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=_prepare_threshold if _prepare_threshold > 0 else None
        )
    # Behind pgbouncer in transaction mode server-side cursors break; turn them off there.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
else:
    # SQLite: wait for the writer instead of failing at once when the worker and web overlap.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# A read replica (core/db_router.py): reports, dashboards and portal panels read from it when
# DATABASE_REPLICA_URL is set; writes and every other read stay on the primary. It gets the
# primary's connection settings (pool, lifetime). Migrations never run against it.
DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG_SECONDS = env.int("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5)
if env("DATABASE_REPLICA_URL", default=""):
    _replica = env.db("DATABASE_REPLICA_URL")
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in DATABASES["default"]:
            _replica[_key] = DATABASES["default"][_key]
    _replica["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **_replica.get("OPTIONS", {})}
    if "pool" in _replica["OPTIONS"]:
        _replica["OPTIONS"]["pool"] = dict(_replica["OPTIONS"]["pool"])
    DATABASES["replica"] = _replica
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, tasks -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Redis Sentinel (core.redis): "host:port,host:port". When set, REDIS_URL and CELERY_BROKER_URL
# give only the database number (and password); the master is whichever the sentinels name.
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="mymaster")
REDIS_SENTINEL_PASSWORD = env("REDIS_SENTINEL_PASSWORD", default="")
if REDIS_URL and REDIS_SENTINELS:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.SentinelRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mgm"),
            "OPTIONS": {"service": REDIS_SENTINEL_MASTER},
        }
    }
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # Django's, one client per pool (core/cache.py)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mgm"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from Redis and written through to the database (Django's cached_db): a
# signed-in page saves its session query, and a Redis flush costs one read, never a sign-out.
# Without Redis each process has its own cache, which would keep a signed-out session alive in
# the other processes: sessions then stay in the database alone.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True  # a task is removed from the queue only when it finished
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and goes back if the worker died mid-task
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# One queue per workload, so a report export or a night's reconciliation never delays an order
# (decision 0043). `hooks`: draining VTEX notifications into orders and commissions (latency
# matters: the portal shows a hook's commission within seconds); `orders`: bulk VTEX work
# (reconciliation, hook registration); `reports`: exports, scheduled reports, rollups;
# `default`: the rest (email, outgoing webhooks, clicks, payouts, audit). A worker started
# without -Q consumes all of them (development, tests); compose runs one worker per queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue("default"), Queue("hooks"), Queue("orders"), Queue("reports")]
CELERY_TASK_ROUTES = {
    "orders.tasks.hook_events_process_task": {"queue": "hooks"},
    "orders.tasks.order_sync_task": {"queue": "hooks"},
    "orders.tasks.hook_events_retry_task": {"queue": "hooks"},
    "orders.tasks.*": {"queue": "orders"},
    # A fanned-out "re-apply stored orders" job: bulk order work, off the hooks' queue.
    "backoffice.tasks.operator_job_chunk_task": {"queue": "orders"},
    "reports.tasks.*": {"queue": "reports"},
}
HEALTH_BROKER_URL = ""  # the broker's redis:// URL, whose queues core.health_probes watches
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    HEALTH_BROKER_URL = CELERY_BROKER_URL
    # An unacknowledged message goes back to the queue after this long. It must exceed the
    # longest task time limit (CELERY_TASK_TIME_LIMIT) and the longest retry countdown
    # (order_sync_task: 600 s), or live and waiting tasks would run twice. Messages of a killed
    # worker are recovered sooner by the sweep each worker schedules when it starts
    # (orders.tasks._sweep_after_restart).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
    if REDIS_SENTINELS:
        # kombu's Sentinel transport: every sentinel as a URL, the master's name and database.
        _broker_db = CELERY_BROKER_URL.rstrip("/").rpartition("/")[2]
        CELERY_BROKER_URL = ";".join(f"sentinel://{host}" for host in REDIS_SENTINELS)
        CELERY_BROKER_TRANSPORT_OPTIONS.update(
            {"master_name": REDIS_SENTINEL_MASTER, "db": int(_broker_db) if _broker_db.isdigit() else 0}
        )
        if REDIS_SENTINEL_PASSWORD:
            CELERY_BROKER_TRANSPORT_OPTIONS["sentinel_kwargs"] = {"password": REDIS_SENTINEL_PASSWORD}
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # No Redis: web requests run tasks in-process; Beat still hands its periodic tasks to the
    # local worker through a folder on disk so the demo stack has real scheduling.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = False
    _celery_dir = BASE_DIR / "var" / "celery"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir),
        "data_folder_out": str(_celery_dir),
        "store_processed": False,
    }

# The periodic schedule lives in code; django-celery-beat's DatabaseScheduler copies it into
# the database at start, where operators can pause an entry from the admin.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # notifications: the daily summary email (12:00 UTC is the morning across Latin America).
    "notifications-digest": {
        "task": "notifications.tasks.notifications_digest_task",
        "schedule": crontab(minute=0, hour=12),
    },
    "audit-seal-chain": {
        "task": "audit.tasks.audit_seal_task",
        "schedule": timedelta(minutes=1),
    },
    "audit-export": {
        "task": "audit.tasks.audit_export_task",
        "schedule": crontab(minute=45),
    },
    "audit-verify-chain": {
        "task": "audit.tasks.audit_verify_chain_task",
        "schedule": crontab(minute=15, hour=3),
    },
    "ledger-verify": {
        "task": "payments.tasks.ledger_verify_task",
        "schedule": crontab(minute=35, hour=3),
    },
    # orders: nightly reconciliation per brand (hourly check of each brand's local hour), the
    # daily check that VTEX still has our hook, and a sweep of notifications left pending.
    "orders-reconcile-dispatch": {
        "task": "orders.tasks.reconcile_dispatch_task",
        "schedule": crontab(minute=20),
    },
    "orders-hook-config-ensure": {
        "task": "orders.tasks.hook_config_ensure_task",
        "schedule": crontab(minute=40, hour=5),
    },
    "orders-hook-events-retry": {
        "task": "orders.tasks.hook_events_retry_task",
        "schedule": crontab(minute="*/10"),
    },
    # campaigns/codes: statuses follow dates, tiers follow confirmed sales, failed code syncs retry.
    "campaigns-status-by-dates": {
        "task": "campaigns.tasks.campaign_status_sync_task",
        "schedule": crontab(minute="*/5"),
    },
    "campaigns-tiers-reevaluate": {
        "task": "campaigns.tasks.campaign_tiers_reevaluate_task",
        "schedule": crontab(minute=30, hour=4),
    },
    "codes-sync-due": {
        "task": "codes.tasks.codes_sync_due_task",
        "schedule": timedelta(minutes=1),
    },
    # webhooks: deliveries whose retry time has come; API idempotency records past 24 hours.
    "webhooks-deliveries-due": {
        "task": "webhooks.tasks.webhook_deliveries_due_task",
        "schedule": timedelta(minutes=1),
    },
    "accounts-idempotency-purge": {
        "task": "accounts.tasks.idempotency_purge_task",
        "schedule": crontab(minute=7),
    },
    # payments: hourly, each brand's biweekly cutoff once its period ended in its time zone.
    "payments-payout-cutoff-dispatch": {
        "task": "payments.tasks.payout_cutoff_dispatch_task",
        "schedule": crontab(minute=7),
    },
    # tracking: buffered clicks into the database; fraud rules over many clicks and orders.
    "tracking-clicks-drain": {
        "task": "tracking.tasks.clicks_drain_task",
        "schedule": timedelta(seconds=10),
    },
    # Monthly click partitions: the coming months created, months past retention archived.
    "tracking-click-partitions": {
        "task": "tracking.tasks.click_partitions_maintain_task",
        "schedule": crontab(minute=35, hour=1),
    },
    "tracking-fraud-scan": {
        "task": "tracking.tasks.fraud_scan_task",
        "schedule": crontab(minute=25),
    },
    # reports: scheduled reports (due per brand time zone) and a nightly refresh of recent rollups.
    "reports-scheduled-dispatch": {
        "task": "reports.tasks.scheduled_reports_dispatch_task",
        "schedule": crontab(minute="*/15"),
    },
    "reports-rollups-refresh-recent": {
        "task": "reports.tasks.rollups_refresh_recent_task",
        "schedule": crontab(minute=50, hour=2),
    },
}
# Orders: nightly reconciliation at this local hour per brand, retried this many times a day
# when a run fails; it also re-reads orders with return invoices created this many days back.
ORDERS_RECONCILE_LOCAL_HOUR = env.int("ORDERS_RECONCILE_LOCAL_HOUR", default=3)
ORDERS_RECONCILE_MAX_ATTEMPTS = env.int("ORDERS_RECONCILE_MAX_ATTEMPTS", default=3)
ORDERS_RETURNS_LOOKBACK_DAYS = env.int("ORDERS_RETURNS_LOOKBACK_DAYS", default=90)
# VTEX's List orders is an index that lags (about 4 minutes, VTEX documents): a day reconciled
# before its end plus this much is reconciled again once it has passed.
VTEX_ORDERS_LIST_LAG_SECONDS = env.int("VTEX_ORDERS_LIST_LAG_SECONDS", default=600)
# Codes: a sync queued longer than this without an answer is queued again by Beat.
CODES_SYNC_STALE_MINUTES = env.int("CODES_SYNC_STALE_MINUTES", default=10)
# Influencer KYC documents: the largest accepted upload, in bytes.
KYC_MAX_UPLOAD_BYTES = env.int("KYC_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
# Creatives library (creatives.uploads): the largest image and brand-guidelines PDF accepted.
CREATIVES_IMAGE_MAX_BYTES = env.int("CREATIVES_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
CREATIVES_PDF_MAX_BYTES = env.int("CREATIVES_PDF_MAX_BYTES", default=20 * 1024 * 1024)
# Reports: sort memory for builder queries (PostgreSQL work_mem, only inside their transaction).
REPORTS_WORK_MEM = env("REPORTS_WORK_MEM", default="16MB")
# Rollups of a busy (brand, day) are recomputed at most once per this many seconds.
ROLLUP_REFRESH_DELAY_SECONDS = env.int("ROLLUP_REFRESH_DELAY_SECONDS", default=5)
# Dashboard and portal panels are cached until their rollups move (core/panel_cache.py); this is
# only the longest an entry lives, a safety net.
PANEL_CACHE_SECONDS = env.int("PANEL_CACHE_SECONDS", default=15 * 60)
# Tracking: where a web process spools clicks while Redis is unreachable; the drain worker
# must see the same folder (a shared volume in compose).
# Clicks are partitioned by month (tracking/partitions.py): partitions created this many months
# ahead; months older than the retention are archived to private storage and dropped.
TRACKING_CLICK_PARTITIONS_AHEAD = env.int("TRACKING_CLICK_PARTITIONS_AHEAD", default=2)
TRACKING_CLICK_RETENTION_MONTHS = env.int("TRACKING_CLICK_RETENTION_MONTHS", default=13)
TRACKING_SPOOL_DIR = env("TRACKING_SPOOL_DIR", default=str(BASE_DIR / "var" / "click-spool"))
# Export download links (reports.exports) stop working after this many seconds.
REPORTS_EXPORT_LINK_SECONDS = env.int("REPORTS_EXPORT_LINK_SECONDS", default=24 * 3600)

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[MGM] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
# Brute force: failed logins are rate limited per IP and per (IP, email: accounts.adapters) with the same generic
# error whether or not the account exists, so the limiter does not reveal which emails exist.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="MGM")
OTP_TOTP_THROTTLE_FACTOR = 1  # seconds; doubles after every failed token (django-otp)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [
    ("es", _("Spanish")),
    ("en", _("English")),
    ("pt-br", _("Portuguese (Brazil)")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "America/Bogota"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=BASE_DIR / "var" / "private")
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_PRIVATE_BUCKET_NAME = env("AWS_PRIVATE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # S3-compatible object storage (AWS, MinIO, R2...): config/settings/storage.py. Private files
    # live in their own bucket and are only reached through short-lived signed URLs from
    # permission-checked views.
    from config.settings.storage import s3_storages

    STORAGES = {
        **s3_storages(
            bucket=AWS_STORAGE_BUCKET_NAME,
            private_bucket=AWS_PRIVATE_BUCKET_NAME,
            access_key=env("AWS_ACCESS_KEY_ID", default=""),
            secret_key=env("AWS_SECRET_ACCESS_KEY", default=""),
            endpoint_url=env("AWS_S3_ENDPOINT_URL", default="") or None,
            region_name=env("AWS_S3_REGION_NAME", default="") or None,
            # The address browsers reach when the app talks to the store by an internal name
            # (compose: http://minio:9000 inside, http://localhost:9000 outside).
            public_endpoint_url=env("AWS_S3_PUBLIC_ENDPOINT_URL", default="") or None,
            signed_url_seconds=env.int("AWS_QUERYSTRING_EXPIRE", default=300),
        ),
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        # base_url=None: nothing in this storage has a public URL; core.storage serves files
        # only through views that check permissions.
        "private": {
            "BACKEND": "core.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Encryption of secrets at rest ----------------------------------------------------------
# Comma-separated Fernet keys, newest first. Add a new key in front to rotate, run
# `manage.py encryption_rotate`, then drop the old key (docs/operations.md).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS",
    default=["dGhpcy1pcy1hLWRldi1vbmx5LWtleS0wMDAwMDAwMDA="],
)

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="MGM <no-reply@mgm.local>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Operators who receive mail_admins alerts (a broken audit chain, say): "Name <a@b>,c@d".
ADMINS = [addr.strip() for addr in env.list("DJANGO_ADMINS", default=[]) if addr.strip()]

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Who may read /metrics: these networks, or a request carrying METRICS_TOKEN as a bearer token.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Hops of trusted reverse proxies in front of the app; 0 means REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.APIKeyAuthentication",
        "accounts.api_auth.VerifiedStaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api_auth.IsBrandClient"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per API key (its own limit or API_KEY_RATE_LIMIT), per staff member or per IP; 429 with
    # Retry-After (accounts.api_auth.APIClientRateThrottle).
    "DEFAULT_THROTTLE_CLASSES": ["accounts.api_auth.APIClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env("API_THROTTLE_RATE", default="600/min"), "webhook": "6000/min"},
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
# --- Outgoing webhooks (docs/webhooks.md) ---
# Development and tests may send to http:// and private hosts (a local receiver); production never.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=False)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=3.05)
WEBHOOKS_READ_TIMEOUT = env.float("WEBHOOKS_READ_TIMEOUT", default=10.0)
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=30.0)
WEBHOOKS_RETRY_MAX_SECONDS = env.float("WEBHOOKS_RETRY_MAX_SECONDS", default=6 * 3600.0)
WEBHOOKS_RETRY_FOR_HOURS = env.int("WEBHOOKS_RETRY_FOR_HOURS", default=72)
WEBHOOKS_DISABLE_AFTER_HOURS = env.int("WEBHOOKS_DISABLE_AFTER_HOURS", default=24)
WEBHOOKS_SECRET_OVERLAP_HOURS = env.int("WEBHOOKS_SECRET_OVERLAP_HOURS", default=24)

# Requests per minute per API key unless the key sets its own.
API_KEY_RATE_LIMIT = env.int("API_KEY_RATE_LIMIT", default=600)
# After a rotation the old key keeps working this long, so clients switch without downtime.
API_KEY_ROTATION_OVERLAP_HOURS = env.int("API_KEY_ROTATION_OVERLAP_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "MGM API",
    "DESCRIPTION": (
        "API for brands' systems: register and decide on influencers, run campaigns, issue codes and "
        "links, read orders, commissions, balances and withdrawals, and subscribe to webhooks.\n\n"
        "Conventions: keys carry scopes (`influencers:write`, `orders:read`...); every POST accepts an "
        "`Idempotency-Key` header (same key and body: the first answer is replayed with "
        "`Idempotent-Replayed: true`; same key, another body: 422; while the first is running: 409); errors "
        "are RFC 9457 problem details (`application/problem+json`) with a `code` and, for invalid input, "
        "`errors`; large lists use cursor pagination (`next`/`previous`); `?ordering=` sorts; each key has "
        "a rate limit and a 429 carries `Retry-After`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "MembershipStatusEnum": "affiliates.models.Membership.Status",
        "CodeStatusEnum": "codes.models.Code.Status",
    },
}

# --- Integrations ---------------------------------------------------------------------------
# When set, replaces https://{account}.{environment}.com.br for every VTEX call (local fakes).
VTEX_API_BASE_URL = env("VTEX_API_BASE_URL", default="")
VTEX_CONNECT_TIMEOUT = env.float("VTEX_CONNECT_TIMEOUT", default=3.05)
# Store hook notifications without waiting for PostgreSQL's WAL flush (docs/orders.md).
VTEX_HOOK_ASYNC_COMMIT = env.bool("VTEX_HOOK_ASYNC_COMMIT", default=True)
# What the hook accepts (orders/hook_limits.py): body bytes (a notification is a few hundred),
# authenticated notifications per brand and second, refused requests (bad token, unknown brand)
# per brand or address and minute before they get 429. 0 turns a budget off.
VTEX_HOOK_MAX_BODY_BYTES = env.int("VTEX_HOOK_MAX_BODY_BYTES", default=64 * 1024)
VTEX_HOOK_REQUESTS_PER_SECOND = env.int("VTEX_HOOK_REQUESTS_PER_SECOND", default=500)
VTEX_HOOK_REFUSALS_PER_MINUTE = env.int("VTEX_HOOK_REFUSALS_PER_MINUTE", default=30)
# At most one drain task published per web process and this many seconds (orders/drain.py).
VTEX_HOOK_DRAIN_SECONDS = env.float("VTEX_HOOK_DRAIN_SECONDS", default=0.25)
VTEX_READ_TIMEOUT = env.float("VTEX_READ_TIMEOUT", default=20.0)
# Attempts per call on connection errors/5xx, backoff base and cap (seconds, with jitter), and
# the longest total wait for 429 Retry-After before giving the call back to the caller.
VTEX_MAX_ATTEMPTS = env.int("VTEX_MAX_ATTEMPTS", default=4)
VTEX_BACKOFF_BASE_SECONDS = env.float("VTEX_BACKOFF_BASE_SECONDS", default=0.5)
VTEX_BACKOFF_MAX_SECONDS = env.float("VTEX_BACKOFF_MAX_SECONDS", default=30.0)
VTEX_RETRY_AFTER_MAX_WAIT = env.float("VTEX_RETRY_AFTER_MAX_WAIT", default=120.0)
# Our own per-account budget, shared by all workers through Redis (integrations/vtex/ratelimit.py).
VTEX_RATE_LIMIT_REQUESTS = env.int("VTEX_RATE_LIMIT_REQUESTS", default=50)
VTEX_RATE_LIMIT_WINDOW_SECONDS = env.float("VTEX_RATE_LIMIT_WINDOW_SECONDS", default=1.0)
# Our budget of VTEX order reads (Get order) per brand and minute, shared by every worker in
# Redis: VTEX documents ~6,000 per minute and account. Per brand slug: a JSON object in
# VTEX_ORDER_READS_PER_MINUTE_BY_BRAND, e.g. {"acme": 3000}. 0 = no budget of ours.
VTEX_ORDER_READS_PER_MINUTE = env.int("VTEX_ORDER_READS_PER_MINUTE", default=6000)
VTEX_ORDER_READS_PER_MINUTE_BY_BRAND = env.json("VTEX_ORDER_READS_PER_MINUTE_BY_BRAND", default={})
VTEX_HTTP_POOL_SIZE = env.int("VTEX_HTTP_POOL_SIZE", default=32)
# The order pipeline in batches (orders.services.batch): events claimed per batch, concurrent
# VTEX reads, how long a claimed event is leased to its worker, and the longest a batch waits
# on one 429 before giving the event back until Retry-After has passed. A batch is applied in
# one transaction per brand and lane, and what such a transaction costs beside its orders (reads
# ahead, locks, the ledger's postings) is paid once for all of them: 100 events of four brands
# gave their sixteen lanes ~6 orders each, at 1.5 times the CPU per order of 400 (decision 0058).
# A claimed batch holds ~60 KB per VTEX document, twice over while the next one is read ahead.
ORDERS_BATCH_SIZE = env.int("ORDERS_BATCH_SIZE", default=400)
ORDERS_FETCH_CONCURRENCY = env.int("ORDERS_FETCH_CONCURRENCY", default=16)
ORDERS_BATCH_LEASE_SECONDS = env.float("ORDERS_BATCH_LEASE_SECONDS", default=120.0)
ORDERS_BATCH_RETRY_AFTER_MAX_WAIT = env.float("ORDERS_BATCH_RETRY_AFTER_MAX_WAIT", default=5.0)
# How many workers may apply one brand's orders at once: a brand's orders are split into this
# many lanes by influencer (orders.services.batch), and each lane applies one batch at a time.
ORDERS_APPLY_LANES = env.int("ORDERS_APPLY_LANES", default=4)
# Code → VTEX coupon sync: attempts before managers are alerted, and the retry backoff.
CODES_SYNC_MAX_ATTEMPTS = env.int("CODES_SYNC_MAX_ATTEMPTS", default=6)
CODES_SYNC_BACKOFF_SECONDS = env.int("CODES_SYNC_BACKOFF_SECONDS", default=60)
CODES_SYNC_BACKOFF_MAX_SECONDS = env.int("CODES_SYNC_BACKOFF_MAX_SECONDS", default=3600)
# After a hook token rotation the previous token keeps working this long.
BRAND_HOOK_TOKEN_GRACE_HOURS = env.int("BRAND_HOOK_TOKEN_GRACE_HOURS", default=72)

# --- Logging and observability --------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")  # "json" or "text"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.request_context.RequestContextLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security.DisallowedHost": {"level": "ERROR"},
    },
}
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# OpenTelemetry tracing (config/tracing.py), off by default. The exporter speaks OTLP over HTTP
# to a collector; the ratio samples whole traces (1.0 keeps every one).
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False)
OTEL_SERVICE_NAME = env("OTEL_SERVICE_NAME", default="mgm")
OTEL_EXPORTER_OTLP_ENDPOINT = env("OTEL_EXPORTER_OTLP_ENDPOINT", default="http://127.0.0.1:4318")
OTEL_TRACES_SAMPLE_RATIO = env.float("OTEL_TRACES_SAMPLE_RATIO", default=0.1)
OTEL_ENVIRONMENT = env("OTEL_ENVIRONMENT", default=env("SENTRY_ENVIRONMENT", default="production"))

# Health signals (core.health): probes' results are cached this long, so a scrape every 15 s
# by each web process costs the database little. The Celery queues whose backlog is watched.
HEALTH_CACHE_SECONDS = env.int("HEALTH_CACHE_SECONDS", default=30)
HEALTH_CELERY_QUEUES = env.list("HEALTH_CELERY_QUEUES", default=["default", "hooks", "orders", "reports"])

AUDIT_CHAIN_LOCK_ID = 7_301_001  # PostgreSQL advisory lock key that serialises audit appends

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")
