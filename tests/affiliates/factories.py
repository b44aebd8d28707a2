"""Factories and file fixtures of the affiliates context."""

import io
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from affiliates.models import PolicyDocument


class PolicyDocumentFactory(factory.django.DjangoModelFactory[PolicyDocument]):
    class Meta:
        model = PolicyDocument

    kind = PolicyDocument.Kind.TERMS
    version = factory.Sequence(lambda n: f"v{n}")
    title = factory.LazyAttribute(lambda o: f"{o.kind} {o.version}")
    body = "Texto de la política."


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "#993366").save(buffer, format="JPEG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def policies_for(brand: Any) -> tuple[PolicyDocument, PolicyDocument]:
    return (
        PolicyDocumentFactory(brand=brand, kind=PolicyDocument.Kind.TERMS, version="1.0"),
        PolicyDocumentFactory(brand=brand, kind=PolicyDocument.Kind.PRIVACY, version="1.0"),
    )
