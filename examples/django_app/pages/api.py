"""The REST side: a JWT login and an advertisers API (the seed's add_advertiser_api)."""

from django.contrib.auth import authenticate
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from pages.models import Advertiser


class TokenLoginView(APIView):
    """POST username and password (form or JSON); answers {"token": "<access token>"}."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        user = authenticate(
            request,
            username=request.data.get("username", ""),
            password=request.data.get("password", ""),
        )
        if user is None:
            return Response({"detail": "bad credentials"}, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"token": str(RefreshToken.for_user(user).access_token)})


class AdvertiserSerializer(serializers.ModelSerializer):
    class Meta:
        model = Advertiser
        fields = ["id", "name", "created"]


class AdvertiserList(generics.ListCreateAPIView):
    """GET lists the 50 newest advertisers; POST {"name": ...} creates one (201)."""

    serializer_class = AdvertiserSerializer

    def get_queryset(self):
        return Advertiser.objects.all()[:50]
