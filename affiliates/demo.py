"""Demo data for the affiliates context, through its services: the demo brand's policies, three
approved influencers with codes in the launch campaign, and one application waiting for a
manager. Idempotent: people are looked up by email, policies by version."""

import io
from typing import Any

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from accounts.models import User
from affiliates.models import Influencer, KYCDocument, Membership, PayoutAccount, PolicyDocument
from affiliates.selectors import policy_current
from affiliates.services.decisions import membership_approve
from affiliates.services.kyc import KycUpload
from affiliates.services.payout_accounts import PayoutData, payout_account_update
from affiliates.services.policies import policy_publish
from affiliates.services.registration import ApplicantProfile, influencer_apply
from brands.models import Brand
from campaigns.models import Campaign

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo data, printed on purpose
POLICY_VERSION = "2026-01"

# email, name, country, document type, document number, instagram, audience, approved?
INFLUENCERS = [
    ("maria@demo.mgm", "María Gómez", "CO", "CO_CC", "1020304050", "mariagomez", 48_000, True),
    ("joao@demo.mgm", "João Silva", "BR", "BR_CPF", "529.982.247-25", "joaosilva", 120_000, True),
    ("lucia@demo.mgm", "Lucía Pérez", "MX", "MX_CURP", "BOXW310820HNERXN09", "luciaperez", 9_500, True),
    ("sofia@demo.mgm", "Sofía Ramírez", "PE", "PE_DNI", "45678912", "sofiaramirez", 230_000, False),
]

TERMS = """1. Objeto. Estas condiciones regulan tu participación como influenciador de la marca.
2. Códigos. Los códigos de descuento son personales; no los publiques en sitios de cupones.
3. Comisiones. Se calculan sobre el valor de los productos después de descuentos, sin envío ni impuestos.
4. Pagos. Las comisiones confirmadas quedan disponibles tras el periodo de retención y se pagan quincenalmente.
5. Terminación. La marca puede suspender o cerrar tu participación por fraude o incumplimiento."""

PRIVACY = """Tratamos tus datos (identificación, contacto, redes, datos bancarios) para gestionar tu
participación y pagarte. Los documentos de identidad se guardan cifrados y solo los ve personal
autorizado de la marca. Puedes pedir acceso, corrección o eliminación escribiendo a la marca."""


def _demo_png() -> bytes:
    image = Image.new("RGB", (320, 200), "#e8eef5")
    ImageDraw.Draw(image).text((20, 90), "DEMO ID DOCUMENT", fill="#1f4e79")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seed_policies(*, brand: Brand, out: Any) -> tuple[PolicyDocument, PolicyDocument]:
    policies = []
    for kind, title, body in (
        (PolicyDocument.Kind.TERMS, "Términos y condiciones para influenciadores", TERMS),
        (PolicyDocument.Kind.PRIVACY, "Política de privacidad", PRIVACY),
    ):
        existing = PolicyDocument.objects.filter(brand=brand, kind=kind, version=POLICY_VERSION).first()
        policy = existing or policy_publish(brand=brand, kind=kind, version=POLICY_VERSION, title=title, body=body)
        policies.append(policy)
        out.write(f"  policy {kind} v{policy.version}")
    return policies[0], policies[1]


def seed(*, out: Any) -> None:
    brand = Brand.objects.get(slug="demo")
    seed_policies(brand=brand, out=out)
    terms = policy_current(brand=brand, kind=PolicyDocument.Kind.TERMS)
    privacy = policy_current(brand=brand, kind=PolicyDocument.Kind.PRIVACY)
    campaign = Campaign.objects.filter(brand=brand, slug="lanzamiento").first()
    for email, name, country, doc_type, doc_number, instagram, audience, approve in INFLUENCERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            membership = influencer_apply(
                brand=brand,
                email=email,
                password=DEMO_PASSWORD,
                profile=ApplicantProfile(
                    full_name=name,
                    country=country,
                    document_type=doc_type,
                    document_number=doc_number,
                    phone="+57 300 555 0101",
                    instagram=instagram,
                    audience_size=audience,
                ),
                documents=[KycUpload(kind=KYCDocument.Kind.IDENTITY, file=SimpleUploadedFile("id.png", _demo_png()))],
                terms=terms,
                privacy=privacy,
                campaign=campaign,
                language="pt-br" if country == "BR" else "es",
            )
            user = membership.influencer.user
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        influencer = Influencer.objects.get(user=user)
        existing = Membership.objects.filter(influencer=influencer, brand=brand).first()
        if existing is None:
            continue
        if approve and existing.status == Membership.Status.PENDING:
            existing = membership_approve(membership=existing, campaigns=[campaign] if campaign else [])
        if approve:
            # Payout data on file, so the demo can show a withdrawal in the finance queue.
            payout_account_update(
                influencer=influencer,
                data=PayoutData(
                    account_holder=name,
                    bank_name="Banco Demo",
                    bank_code="0007",
                    account_type=PayoutAccount.AccountType.SAVINGS,
                    account_number=f"0012{influencer.pk:06d}",
                ),
            )
        out.write(f"  influencer {email} / {DEMO_PASSWORD} (@{instagram}, {existing.status})")
