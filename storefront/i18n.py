"""The ``storefront`` translation domain: what shoppers read, in en, ru and uk."""

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("storefront")

LOCALES = ("en", "ru", "uk")
LANGUAGES = (("en", "English"), ("ru", "Русский"), ("uk", "Українська"))
