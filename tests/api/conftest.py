from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage

from affiliates.models import KYCDocument


@pytest.fixture(autouse=True)
def _private_media(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "private").mkdir()
    storage = FileSystemStorage(location=str(tmp_path / "private"), base_url=None)
    monkeypatch.setattr(KYCDocument._meta.get_field("file"), "storage", storage)


def auth(key: str, **headers: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    }
