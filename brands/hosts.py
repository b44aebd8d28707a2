"""A brand's store domains: the hosts its tracked links may send people to (tracking.destinations
checks every destination against them). Managers type them one per line; what is stored is a
list of lower-case host names, each checked here, so a typo never silently blocks every link."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_STORE_DOMAINS = 20
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def host_normalize(entry: str) -> str:
    """`https://WWW.Shop.com/sale` → `www.shop.com`: people paste addresses, we keep the host."""
    text = entry.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    return text.split("/", 1)[0].rstrip(".")


def host_is_valid(host: str) -> bool:
    """A public DNS name with a dot: no ports, no user info, no IP addresses, no wildcards."""
    if not host or len(host) > 253 or "." not in host:
        return False
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    if labels[-1].isdigit():  # 192.168.0.1: links go to a store's name, never to an address
        return False
    return all(_LABEL.match(label) for label in labels)


def store_domains_clean(entries: list[str]) -> list[str]:
    """The hosts to store, in the order given, without duplicates; ValidationError naming each
    entry that is not a host."""
    hosts: list[str] = []
    bad: list[str] = []
    for entry in entries:
        if not entry.strip():
            continue
        host = host_normalize(entry)
        if not host_is_valid(host):
            bad.append(entry.strip())
        elif host not in hosts:
            hosts.append(host)
    if bad:
        raise ValidationError(
            _("Not a store host name like www.example.com: %(entries)s.") % {"entries": ", ".join(bad)},
            code="invalid_host",
        )
    if len(hosts) > MAX_STORE_DOMAINS:
        raise ValidationError(_("At most %(max)d store domains.") % {"max": MAX_STORE_DOMAINS}, code="too_many_hosts")
    return hosts
