from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import BRAND_VIEWER, FINANCE, MANAGER, roles_sync
from brands.models import Brand
from brands.services import staff_brand_grant

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo data, printed on purpose

STAFF = [
    ("admin@demo.mgm", "Ana Admin", None, True),
    ("manager@demo.mgm", "Mateo Manager", MANAGER, False),
    ("finance@demo.mgm", "Fernanda Finance", FINANCE, False),
    # A second finance user: the demo brand needs two approvals above its threshold.
    ("finance2@demo.mgm", "Felipe Finance", FINANCE, False),
    ("viewer@demo.mgm", "Valeria Viewer", BRAND_VIEWER, False),
]


def seed(*, out: Any) -> None:
    roles_sync()
    brand = Brand.objects.get(slug="demo")
    for email, name, role, is_superuser in STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            if is_superuser:
                user = User.objects.create_superuser(email=email, password=DEMO_PASSWORD, full_name=name)
            else:
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name, is_staff=True)
        _verify_email(user)
        if role:
            user.groups.add(Group.objects.get(name=role))
            staff_brand_grant(user=user, brand=brand)
        out.write(f"  login {email} / {DEMO_PASSWORD} ({role or 'administrator'}; 2FA enrolment on first sign-in)")


def _verify_email(user: User) -> None:
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
