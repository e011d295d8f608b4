"""The HTML side of the seed's application: a throttled login form, pages, a CSRF-protected form."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from pages.models import Page


class ThrottledLoginView(LoginView):
    """Django's login form, refusing a second login of one account within LOGIN_INTERVAL.

    This reproduces the seed article's observation that "the application prevents multiple
    login from same account in short interval of time". The check and the update are one SQL
    UPDATE, so it holds across gunicorn worker processes and concurrent requests.
    """

    template_name = "registration/login.html"

    def form_valid(self, form):
        user = form.get_user()
        now = timezone.now()
        interval = timedelta(seconds=settings.LOGIN_INTERVAL)
        claimed = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .filter(Q(last_login__isnull=True) | Q(last_login__lte=now - interval))
            .update(last_login=now)
        )
        if not claimed:
            return HttpResponse(
                f"Too many logins: this account logged in less than "
                f"{settings.LOGIN_INTERVAL:g} s ago.\n",
                status=429,
                content_type="text/plain",
            )
        return super().form_valid(form)


@login_required
def home(request):
    return render(request, "pages/home.html", {"page_count": Page.objects.count()})


@login_required
def page_list(request):
    paginator = Paginator(Page.objects.all(), 20)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "pages/page_list.html", {"page": page})


@login_required
def page_detail(request, page_id: int):
    return render(request, "pages/page_detail.html", {"item": get_object_or_404(Page, pk=page_id)})


@login_required
def create_page(request):
    if request.method == "POST":
        name = (request.POST.get("name") or "").strip()
        if not name:
            return render(
                request, "pages/create_page.html", {"error": "name is required"}, status=400
            )
        Page.objects.create(name=name[:200], body=request.POST.get("body", ""))
        return redirect("page-list")
    return render(request, "pages/create_page.html")


def instance(request):
    """The token serve.py gave this server (DEMO_INSTANCE): proof that what answers on the port
    is the gunicorn it started, not another program that held the port first."""
    return HttpResponse(settings.INSTANCE, content_type="text/plain")
