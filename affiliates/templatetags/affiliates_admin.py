from typing import Any

from django import template

from affiliates.selectors import application_pending_count

register = template.Library()


@register.simple_tag(takes_context=True)
def pending_applications(context: dict[str, Any]) -> int:
    """Applications waiting for a decision in the brands the staff member can see."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("affiliates.view_membership"):
        return 0
    return application_pending_count(user=user)
