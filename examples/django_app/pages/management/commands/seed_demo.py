"""Create the demo accounts (user1..userN, password "password"), the API account, and pages."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand

from pages.models import Page


class Command(BaseCommand):
    help = "Create demo accounts user1..userN and some pages (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--pages", type=int, default=50)

    def handle(self, *args, users: int, pages: int, **options):
        user_model = get_user_model()
        hashed = make_password("password")  # one hash, shared: seeding stays fast
        existing = set(user_model.objects.values_list("username", flat=True))
        fresh = [
            user_model(username=f"user{i}", password=hashed)
            for i in range(1, users + 1)
            if f"user{i}" not in existing
        ]
        user_model.objects.bulk_create(fresh, batch_size=500)
        if "suser" not in existing:
            user_model.objects.create_superuser("suser", "suser@example.invalid", "asdf1234")
        missing_pages = pages - Page.objects.count()
        Page.objects.bulk_create(
            Page(name=f"Page {i}", body=f"Demo page number {i}.")
            for i in range(max(0, missing_pages))
        )
        self.stdout.write(f"{len(fresh)} accounts created, {max(0, missing_pages)} pages created")
