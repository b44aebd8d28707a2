from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as base_patterns


@csrf_exempt
@require_POST
def bare_hook(request: HttpRequest) -> JsonResponse:
    """The floor: the same middleware stack and decorators, a view that reads the body and
    answers like the hook, storing nothing."""
    return JsonResponse({"ok": True, "duplicate": False, "size": len(request.body)})


urlpatterns = [path("bench/bare-hook/", bare_hook), *base_patterns]
