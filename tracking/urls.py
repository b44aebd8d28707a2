from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("r/<slug:slug>", views.redirect, name="redirect"),
    path("r/<slug:slug>/qr.svg", views.link_qr, name="link_qr"),
    path("t/conversion", views.conversion, name="conversion"),
]
