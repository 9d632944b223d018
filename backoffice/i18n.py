"""The translation domain of the back-office and the locales we ship."""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("backoffice")

LOCALES = ("en", "ru", "uk")
