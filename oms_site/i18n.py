"""The dashboard's language: the user's own choice, else the browser's.

Django's ``LocaleMiddleware`` picks the language from the switcher's cookie or the
browser's ``Accept-Language``; ``UserLanguageMiddleware`` (after authentication) then puts
a logged-in user's saved preference (``StaffProfile.language``) first, so a manager who
chose Norwegian gets it on any device. The switcher (``set_language``) saves the choice on
the profile of a logged-in user and in a cookie for everyone.

Amounts, numbers and dates are formatted for the active language with Babel (CLDR data):
``oms_site.money.babel_locale()`` maps a Django language code to a Babel locale.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


def supported(language: str | None) -> str | None:
    """The language code if the dashboard speaks it, else None."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else None


def user_language(user) -> str | None:
    profile = getattr(user, "staff_profile", None) if user.is_authenticated else None
    return supported(getattr(profile, "language", "") or None)


class UserLanguageMiddleware:
    """A logged-in user's saved language wins over the cookie and the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = user_language(request.user) if hasattr(request, "user") else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def language_context(request):
    """Template context for the switcher: every language and the active one."""
    return {
        "oms_languages": settings.LANGUAGES,
        "oms_language": translation.get_language(),
    }


@require_POST
def set_language(request):
    """The language switcher: save the choice (profile and cookie), then go back."""
    from .models import StaffProfile
    from .roles import Role

    language = supported(request.POST.get("language"))
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if language is None:
        return response
    if request.user.is_authenticated:
        saved = StaffProfile.objects.filter(user=request.user).update(language=language)
        if not saved and request.user.is_superuser:
            # Superusers are owners without a profile; a profile never grants a role here.
            StaffProfile.objects.create(user=request.user, role=Role.OWNER, language=language)
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response
