"""URLs of the seed article's application."""

from django.urls import path
from pages import api, views

urlpatterns = [
    path("accounts/login/", views.ThrottledLoginView.as_view(), name="login"),
    path("", views.home, name="home"),
    path("pages/", views.page_list, name="page-list"),
    path("pages/<int:page_id>/", views.page_detail, name="page-detail"),
    path("create_page/", views.create_page, name="create-page"),
    path("auth/login/", api.TokenLoginView.as_view(), name="token-login"),
    path("api/advertisers/", api.AdvertiserList.as_view(), name="advertisers"),
    path("__instance/", views.instance, name="instance"),
]
