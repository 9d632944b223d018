"""The app as the web sees it: the reverse proxy's corrections and the security headers."""


def includeme(config) -> None:
    config.include("backoffice.web.proxy")
    config.include("backoffice.web.headers")
